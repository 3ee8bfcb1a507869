/** How a server connection logs in to PostgreSQL. */
export type ServerCredentials =
  | { readonly kind: 'password'; readonly password: string }
  | { readonly kind: 'md5'; readonly hash: string }
  | { readonly kind: 'scram-keys'; readonly clientKey: Buffer; readonly serverKey: Buffer }
  | { readonly kind: 'none' };

export function describeCredentials(c: ServerCredentials): string {
  switch (c.kind) {
    case 'password': return 'a password';
    case 'md5': return 'an md5 hash (passthrough)';
    case 'scram-keys': return 'SCRAM keys recovered from a client login (passthrough)';
    case 'none': return 'no credentials';
  }
}
