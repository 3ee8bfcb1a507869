// @weir/protocol — PostgreSQL v3 wire protocol. No I/O: buffers in, messages out.
export { ProtocolError, type ProtocolErrorCode } from './errors.js';
export {
  Msg,
  AuthCode,
  TxStatus,
  SqlState,
  PROTOCOL_V3,
  SSL_REQUEST_CODE,
  GSSENC_REQUEST_CODE,
  CANCEL_REQUEST_CODE,
  isReadyForQuery,
  readyStatus,
} from './codes.js';
export { Framer, DEFAULT_MAX_MESSAGE, MAX_STARTUP_MESSAGE } from './framer.js';
export { Writer, cstrLen, dataLen } from './writer.js';

export { decodeStartup, type StartupPacket } from './decode/startup.js';
export {
  decodeQuery,
  decodeParse,
  decodeBind,
  decodeDescribe,
  decodeClose,
  decodeExecute,
  decodePassword,
  decodePasswordText,
  decodeSASLInitialResponse,
  decodeCopyFail,
  type ParseMessage,
  type BindMessage,
  type DescribeOrClose,
} from './decode/frontend.js';
export {
  decodeAuthentication,
  decodeErrorFields,
  decodeParameterStatus,
  decodeBackendKeyData,
  decodeReadyForQuery,
  decodeCommandComplete,
  decodeNotification,
  decodeCopyResponse,
  decodeRowDescription,
  decodeDataRow,
  type AuthenticationMessage,
  type ErrorFields,
  type ColumnDescription,
} from './decode/backend.js';

export * from './encode/backend.js';
export * from './encode/frontend.js';

export { md5Hash, md5Response, md5Verify, type AuthSecretLike } from './auth/md5.js';
export { secretKind, safeEqual } from './auth/secret.js';
export { saslprep } from './auth/saslprep.js';
export {
  SCRAM_SHA_256,
  SCRAM_DEFAULT_ITERATIONS,
  makeScramVerifier,
  parseScramVerifier,
  mockScramKeys,
  type ScramKeys,
} from './auth/scram-common.js';
export { ScramServer, type ScramFinalResult } from './auth/scram-server.js';
export { ScramClient } from './auth/scram-client.js';
