import { errorResponse } from '@weir/protocol';

/** SQLSTATE codes the proxy answers with. */
export const SqlState = {
  InvalidPassword: '28P01',
  InvalidAuthorization: '28000',
  UnknownDatabase: '3D000',
  TooManyConnections: '53300',
  ProtocolViolation: '08P01',
  ConnectionFailure: '08006',
  CannotConnectNow: '57P03',
  AdminShutdown: '57P01',
  QueryCanceled: '57014',
  FeatureNotSupported: '0A000',
  SyntaxError: '42601',
  InternalError: 'XX000',
  UndefinedObject: '42704',
  ObjectNotInPrerequisiteState: '55000',
} as const;

export function fatal(code: string, message: string, detail?: string): Buffer {
  return errorResponse({ severity: 'FATAL', code, message, detail });
}

export function error(code: string, message: string, detail?: string): Buffer {
  return errorResponse({ severity: 'ERROR', code, message, detail });
}
