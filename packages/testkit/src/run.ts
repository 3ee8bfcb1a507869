import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { TestkitError } from './errors.js';

/** The OS user PostgreSQL programs run as: `postgres` when we are root, else ourselves. */
export interface PgOsUser {
  readonly asRoot: boolean;
  readonly uid: number;
  readonly gid: number;
}

let cachedUser: PgOsUser | undefined;

export function pgOsUser(): PgOsUser {
  if (cachedUser) return cachedUser;
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  if (uid !== 0) return (cachedUser = { asRoot: false, uid, gid });
  try {
    const pUid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const pGid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return (cachedUser = { asRoot: true, uid: pUid, gid: pGid });
  } catch (cause) {
    throw new TestkitError(
      'WEIR_E_TESTKIT_NO_PG_USER',
      'running as root, but PostgreSQL refuses to run as root and there is no OS user "postgres" ' +
        'to run it as. Create one (`useradd --system postgres`, or `apt-get install postgresql` ' +
        'which does) or run the tests as a non-root user.',
      { cause },
    );
  }
}

/** argv prefixed with `runuser -u postgres --` when we are root. */
export function asPgUser(file: string, args: string[]): [string, string[]] {
  return pgOsUser().asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
}

/** Run a PostgreSQL program (as the postgres OS user when root); reject with its output. */
export function runPg(file: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const [cmd, argv] = asPgUser(file, args);
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { cwd: '/', timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const output = `${stdout}${stderr}`.trim();
      reject(
        new TestkitError(
          'WEIR_E_TESTKIT_COMMAND_FAILED',
          `${[file, ...args].join(' ')} failed (${error.message.split('\n')[0]})${output ? `:\n${output}` : ''}`,
          { cause: error },
        ),
      );
    });
  });
}

/** Synchronous variant for exit handlers: never throws. */
export function runPgSync(file: string, args: string[]): void {
  const [cmd, argv] = asPgUser(file, args);
  spawnSync(cmd, argv, { cwd: '/', stdio: 'ignore', timeout: 30_000 });
}
