// Drives the native framing core with generated hostile input and compares it with
// @weir/protocol's Framer. Run under the sanitizer build by src/sanitizer.test.ts:
//   WEIR_IO_ADDON=asan LD_PRELOAD=$(gcc -print-file-name=libasan.so) node scripts/fuzz-native.cjs 100000
const { loadNative } = require('../dist/index.js');
const { Framer } = require('@weir/protocol');

const loaded = loadNative();
if (!loaded.io) {
  console.error(`fuzz-native: ${loaded.reason}`);
  process.exit(2);
}
const io = loaded.io;
const MAX = 1 << 16;
let seed = Number(process.env.SEED || 20261207) >>> 0;
const rnd = (n) => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed % n;
};

function message() {
  const kind = rnd(4);
  if (kind === 3) return Buffer.from(Array.from({ length: rnd(20) }, () => rnd(256)));
  const bodyLen = kind === 0 ? rnd(300) : rnd(40);
  const b = Buffer.alloc(5 + bodyLen);
  for (let i = 0; i < b.length; i++) b[i] = rnd(256);
  const len = kind === 0 ? bodyLen + 4 : kind === 1 ? (rnd(2) ? rnd(0x7fffffff) : -rnd(0x7fffffff)) : [MAX, MAX + 1, 0x7fffffff, 3][rnd(4)];
  b.writeInt32BE(len | 0, 1);
  return b;
}

const runs = Number(process.argv[2] || 100000);
for (let r = 0; r < runs; r++) {
  const bytes = Buffer.concat(Array.from({ length: rnd(12) }, message));
  const chunks = [];
  let at = 0;
  while (at < bytes.length) {
    const n = 1 + rnd(Math.min(64, bytes.length - at));
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  const f = new Framer(MAX);
  const pairs = [];
  let failedAt = -1;
  for (let i = 0; i < chunks.length && failedAt < 0; i++) {
    f.push(chunks[i]);
    try {
      while (f.next()) pairs.push(f.type, f.end - f.start - 1);
    } catch {
      failedAt = i;
    }
  }
  const got = io.frames(chunks, MAX);
  const ok = failedAt >= 0 ? got === -failedAt - 1 : typeof got === 'object' && JSON.stringify([...got]) === JSON.stringify(pairs);
  if (!ok) {
    console.error(`fuzz-native: run ${r} differs from the reference framer: input ${bytes.toString('hex')}`);
    process.exit(1);
  }
}
console.log(`fuzz-native: ${runs} inputs framed as the reference does`);
