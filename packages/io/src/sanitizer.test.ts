import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const pkg = path.join(__dirname, '..');
const libasan = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout?.trim() ?? '';
const haveAsan = libasan.startsWith('/') && fs.existsSync(libasan);

// CI runs the native framer's fuzz under AddressSanitizer + UBSan and fails on any report.
describe.skipIf(!haveAsan)('native addon under AddressSanitizer + UBSan', () => {
  it('builds the sanitizer variant and frames 100,000 hostile inputs with no report', () => {
    const build = spawnSync(process.execPath, ['scripts/build-addon.mjs'], { cwd: pkg, env: { ...process.env, WEIR_IO_SANITIZE: '1' }, encoding: 'utf8' });
    expect(build.status).toBe(0);
    expect(fs.existsSync(path.join(pkg, 'build', 'weir_io.asan.node'))).toBe(true);
    const run = spawnSync(process.execPath, ['scripts/fuzz-native.cjs', '100000'], {
      cwd: pkg,
      encoding: 'utf8',
      env: { ...process.env, WEIR_IO_ADDON: 'asan', LD_PRELOAD: libasan, ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1', UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1' },
    });
    const report = `${run.stdout}\n${run.stderr}`;
    expect(report).not.toMatch(/AddressSanitizer|runtime error|UndefinedBehaviorSanitizer/);
    expect(run.status, report).toBe(0);
    expect(run.stdout).toMatch(/100000 inputs framed as the reference does/);
  });
});
