import { describe, expect, it } from 'vitest';
import { pluginTestConfig } from './plugin-stack.js';

describe('pluginTestConfig', () => {
  it('puts the plugins under plugins:, indented, beside one pool appdb and the admin console', () => {
    expect(pluginTestConfig({ plugins: 'weir-plugin-a: { x: 1 }\nweir-plugin-b:\n  y: 2\n', serverPort: 5433, general: { metrics_port: 9127 } })).toBe(`general: { host: 127.0.0.1, port: \${PORT}, admin_user: admin, admin_password: admin, metrics_port: 9127 }
plugins:
  weir-plugin-a: { x: 1 }
  weir-plugin-b:
    y: 2
pools:
  appdb:
    server_host: 127.0.0.1
    server_port: 5433
    pool_mode: transaction
    pool_size: 2
    users: [{ username: app, password: secret }]
`);
  });

  it('takes a fixed port (for `weir check`) and general keys over the defaults', () => {
    expect(pluginTestConfig({ plugins: 'p: {}', serverPort: 1, port: 6432, general: { host: '0.0.0.0' } }).split('\n')[0]).toBe(
      'general: { host: 0.0.0.0, port: 6432, admin_user: admin, admin_password: admin }');
  });
});
