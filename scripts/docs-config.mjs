// Regenerates docs/config.md and docs/weir.schema.json from the config schemas (run after `npm run build`).
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedDocs } from '../packages/weir/dist/index.js';

const root = join(fileURLToPath(import.meta.url), '..', '..');
for (const { path, text } of generatedDocs()) {
  writeFileSync(join(root, path), text);
  console.log(`wrote ${path}`);
}
