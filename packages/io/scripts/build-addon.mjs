// Compiles the addon with this machine's C compiler against the running Node's own headers.
// Never downloads anything. With no compiler (or a failed build) it says so and exits 0:
// weir then runs on the node:net path (general.io: node) and logs why.
// WEIR_IO_SANITIZE=1 builds build/weir_io.asan.node with AddressSanitizer + UBSan instead.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const include = path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node');
const sanitize = process.env.WEIR_IO_SANITIZE === '1';
const out = path.join(root, 'build', sanitize ? 'weir_io.asan.node' : 'weir_io.node');
const status = path.join(root, 'build', sanitize ? 'status.asan.json' : 'status.json');
fs.mkdirSync(path.dirname(out), { recursive: true });

function done(built, reason) {
  fs.writeFileSync(status, JSON.stringify({ built, reason, node: process.version }) + '\n');
  if (!built) {
    try { fs.unlinkSync(out); } catch { /* none */ }
    console.warn(`@weir/io: native addon not built (${reason}); weir will run on the node:net path`);
  }
  process.exit(0);
}

if (!fs.existsSync(path.join(include, 'node_api.h')) || !fs.existsSync(path.join(include, 'uv.h'))) {
  done(false, `no node_api.h/uv.h under ${include}`);
}
const cc = process.env.CC || 'cc';
const flags = sanitize
  ? ['-O1', '-g', '-fno-omit-frame-pointer', '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined']
  : ['-O2'];
const args = [...flags, '-std=gnu11', '-Wall', '-Wextra', '-Wno-unused-parameter', '-fPIC', '-shared', '-fvisibility=hidden',
  '-DNAPI_VERSION=8', '-I', include, '-o', out, path.join(root, 'native', 'weir_io.c')];
const r = spawnSync(cc, args, { stdio: ['ignore', 'inherit', 'inherit'] });
if (r.error) done(false, `${cc}: ${r.error.message}`);
if (r.status !== 0) done(false, `${cc} exited with ${r.status}`);
done(true, 'built');
