/**
 * Message type bytes. Client and server share some bytes (0x53 is Sync from a
 * client and ParameterStatus from a server); the direction decides.
 */
export const Msg = {
  // client → server
  Query: 0x51, // Q
  Parse: 0x50, // P
  Bind: 0x42, // B
  Describe: 0x44, // D
  Execute: 0x45, // E
  Close: 0x43, // C
  Sync: 0x53, // S
  Flush: 0x48, // H
  Terminate: 0x58, // X
  CopyData: 0x64, // d (both directions)
  CopyDone: 0x63, // c (both directions)
  CopyFail: 0x66, // f
  Password: 0x70, // p (also SASLInitialResponse, SASLResponse)
  FunctionCall: 0x46, // F
  // server → client
  Authentication: 0x52, // R
  ParameterStatus: 0x53, // S
  BackendKeyData: 0x4b, // K
  ReadyForQuery: 0x5a, // Z
  ErrorResponse: 0x45, // E
  NoticeResponse: 0x4e, // N
  NotificationResponse: 0x41, // A
  RowDescription: 0x54, // T
  DataRow: 0x44, // D
  CommandComplete: 0x43, // C
  EmptyQueryResponse: 0x49, // I
  ParseComplete: 0x31, // 1
  BindComplete: 0x32, // 2
  CloseComplete: 0x33, // 3
  NoData: 0x6e, // n
  ParameterDescription: 0x74, // t
  PortalSuspended: 0x73, // s
  CopyInResponse: 0x47, // G
  CopyOutResponse: 0x48, // H
  CopyBothResponse: 0x57, // W
  FunctionCallResponse: 0x56, // V
  NegotiateProtocolVersion: 0x76, // v
} as const;

/** Request codes of untyped (startup-phase) messages. */
export const PROTOCOL_V3 = 196608; // 3 << 16
export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;

/** Authentication request codes (first int32 of an 'R' message). */
export const AuthCode = {
  Ok: 0,
  KerberosV5: 2,
  CleartextPassword: 3,
  MD5Password: 5,
  GSS: 7,
  GSSContinue: 8,
  SSPI: 9,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const;

/** Transaction status bytes of ReadyForQuery. */
export const TxStatus = {
  Idle: 0x49, // I
  InTransaction: 0x54, // T
  Failed: 0x45, // E
} as const;

/** SQLSTATE codes a pooler reports. */
export const SqlState = {
  ConnectionException: '08000',
  ConnectionFailure: '08006',
  UnableToConnect: '08001',
  ProtocolViolation: '08P01',
  FeatureNotSupported: '0A000',
  InvalidAuthorization: '28000',
  InvalidPassword: '28P01',
  InvalidCatalogName: '3D000',
  TooManyConnections: '53300',
  QueryCanceled: '57014',
  AdminShutdown: '57P01',
  CannotConnectNow: '57P03',
  ObjectNotInPrerequisiteState: '55000',
  InternalError: 'XX000',
} as const;

/** True when `type` is ReadyForQuery ('Z'). */
export function isReadyForQuery(type: number): boolean {
  return type === 0x5a;
}

/** Status byte of a ReadyForQuery whose body starts at `bodyStart`: TxStatus.Idle / InTransaction / Failed. */
export function readyStatus(buf: Buffer, bodyStart: number): number {
  return buf[bodyStart] ?? 0;
}
