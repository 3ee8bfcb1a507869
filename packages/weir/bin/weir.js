#!/usr/bin/env -S node --max-semi-space-size=2
// The `weir` command. Committed (not built) so npm links node_modules/.bin/weir at install time,
// before dist/ exists, and with its executable bit from git rather than from a build cache.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const cli = join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(cli)) {
  console.error(`weir: WEIR_E_CLI_NOT_BUILT: ${cli} is missing; run \`npm run build\` at the repository root`);
  process.exit(1);
}
require(cli);
