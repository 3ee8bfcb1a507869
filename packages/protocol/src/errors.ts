/** Every code a {@link ProtocolError} can carry. */
export type ProtocolErrorCode =
  | 'WEIR_E_PROTO_TOO_LARGE'
  | 'WEIR_E_PROTO_BAD_LENGTH'
  | 'WEIR_E_PROTO_MALFORMED'
  | 'WEIR_E_PROTO_UNSUPPORTED_VERSION'
  | 'WEIR_E_AUTH_FAILED'
  | 'WEIR_E_AUTH_UNSUPPORTED';

const SQLSTATE: Record<ProtocolErrorCode, string> = {
  WEIR_E_PROTO_TOO_LARGE: '08P01',
  WEIR_E_PROTO_BAD_LENGTH: '08P01',
  WEIR_E_PROTO_MALFORMED: '08P01',
  WEIR_E_PROTO_UNSUPPORTED_VERSION: '0A000',
  WEIR_E_AUTH_FAILED: '28P01',
  WEIR_E_AUTH_UNSUPPORTED: '28000',
};

/** The only error this package throws on bad input. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string) {
    super(message);
    this.code = code;
  }

  /** The SQLSTATE to report to a PostgreSQL client for this error. */
  get sqlState(): string {
    return SQLSTATE[this.code];
  }
}

/** Shorthand for the most common failure: a body that does not decode. */
export function malformed(message: string): ProtocolError {
  return new ProtocolError('WEIR_E_PROTO_MALFORMED', message);
}
