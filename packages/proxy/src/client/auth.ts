import crypto from 'node:crypto';
import { random4 } from '../random.js';
import type { AuthSecret } from '@weir/kernel';
import { WeirError } from '@weir/kernel';
import {
  Msg, authenticationMD5, authenticationSASL, authenticationSASLContinue, authenticationSASLFinal,
  decodePassword, decodeSASLInitialResponse, md5Verify, mockScramKeys, ScramServer, parseScramVerifier, type ScramFinalResult,
} from '@weir/protocol';
import type { MessageReader } from './reader.js';

/** Where the login's answers go: the client's connection on either data path. */
export interface ByteSink {
  write(bytes: Buffer): unknown;
}

export interface AuthOutcome {
  /** SCRAM passthrough: the ClientKey recovered from the client's proof, with the verifier's ServerKey. */
  scramKeys?: { clientKey: Buffer; serverKey: Buffer };
}

export class AuthFailed extends WeirError {
  constructor(user: string, why: string) {
    super('WEIR_E_AUTH_FAILED', `password authentication failed for user "${user}"`, { user, why });
  }
}

async function readPassword(reader: MessageReader, user: string): Promise<{ buffer: Buffer; bodyStart: number; end: number }> {
  const m = await reader.next(true);
  if (m.type !== Msg.Password) throw new AuthFailed(user, `expected a password message, got type 0x${m.type.toString(16)}`);
  return m;
}

/** How an unknown user is challenged: the way the known users of that pool (or console) are. */
export type MockMethod = 'md5' | 'scram';

/** Derives mock SCRAM salts; per process, so a name's salt is stable for the process's life. */
const MOCK_SECRET = crypto.randomBytes(32);

/** The exchange a known user with one of `secrets` is asked for: md5 only if every one of them is md5. */
export function mockMethodFor(secrets: Iterable<AuthSecret | null>): MockMethod {
  let any = false;
  for (const s of secrets) {
    if (s?.kind !== 'md5') return 'scram';
    any = true;
  }
  return any ? 'md5' : 'scram';
}

/**
 * Run the client-side authentication exchange for `secret`; throws AuthFailed on a wrong password.
 * A null secret (unknown user) runs the same exchange as a known user would get (`mock`), with a
 * SCRAM salt derived from the name, and fails with the same error: user names cannot be probed.
 */
export async function authenticateClient(socket: ByteSink, reader: MessageReader, user: string, secret: AuthSecret | null, mock: MockMethod = 'scram'): Promise<AuthOutcome> {
  if (secret === null) {
    if (mock === 'md5') {
      socket.write(authenticationMD5(random4()));
      await readPassword(reader, user);
    } else {
      await scramExchange(socket, reader, user, new ScramServer({ keys: mockScramKeys(user, MOCK_SECRET) }), 'unknown user');
    }
    throw new AuthFailed(user, 'unknown user');
  }
  if (secret.kind === 'trust') return {};
  if (secret.kind === 'md5') {
    const salt = random4();
    socket.write(authenticationMD5(salt));
    const m = await readPassword(reader, user);
    const response = decodePassword(m.buffer, m.bodyStart, m.end).toString('utf8').replace(/\0$/, '');
    if (!md5Verify(secret.hash, user, salt, response)) throw new AuthFailed(user, 'md5 response mismatch');
    return {};
  }
  const server = new ScramServer(secret.kind === 'plain' ? { password: secret.password } : { verifier: secret.verifier });
  const result = await scramExchange(socket, reader, user, server);
  if (secret.kind === 'scram-sha-256' && result.clientKey) {
    const parsed = parseScramVerifier(secret.verifier);
    if (parsed) return { scramKeys: { clientKey: result.clientKey, serverKey: parsed.serverKey } };
  }
  return {};
}

/** SASL SCRAM-SHA-256 from the server side up to AuthenticationSASLFinal; AuthFailed on a wrong proof. */
async function scramExchange(socket: ByteSink, reader: MessageReader, user: string, server: ScramServer, mismatch = 'SCRAM proof mismatch'): Promise<ScramFinalResult> {
  socket.write(authenticationSASL(['SCRAM-SHA-256']));
  const first = await readPassword(reader, user);
  const init = decodeSASLInitialResponse(first.buffer, first.bodyStart, first.end);
  if (init.mechanism !== 'SCRAM-SHA-256') throw new AuthFailed(user, `unsupported SASL mechanism ${init.mechanism}`);
  socket.write(authenticationSASLContinue(server.handleClientFirst(init.data)));
  const fin = await readPassword(reader, user);
  const result = server.handleClientFinal(decodePassword(fin.buffer, fin.bodyStart, fin.end));
  if (!result.ok) throw new AuthFailed(user, mismatch);
  socket.write(authenticationSASLFinal(result.serverFinal!));
  return result;
}

/** The stored secret for a configured password string: md5 hash, SCRAM verifier or plaintext. */
export function secretFromPassword(password: string): AuthSecret {
  if (/^md5[0-9a-f]{32}$/.test(password)) return { kind: 'md5', hash: password };
  if (password.startsWith('SCRAM-SHA-256$')) return { kind: 'scram-sha-256', verifier: password };
  return { kind: 'plain', password };
}
