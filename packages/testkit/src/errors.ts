/** Error codes thrown by @weir/testkit. */
export type TestkitErrorCode =
  | 'WEIR_E_TESTKIT_NO_POSTGRES'
  | 'WEIR_E_TESTKIT_NO_PG_USER'
  | 'WEIR_E_TESTKIT_COMMAND_FAILED'
  | 'WEIR_E_TESTKIT_CLUSTER_START'
  | 'WEIR_E_TESTKIT_CLUSTER_STOPPED'
  | 'WEIR_E_TESTKIT_WEIR_NOT_FOUND'
  | 'WEIR_E_TESTKIT_WEIR_START'
  | 'WEIR_E_TESTKIT_WEIR_STOPPED'
  | 'WEIR_E_TESTKIT_LOG_TIMEOUT'
  | 'WEIR_E_TESTKIT_SANITIZER';

/** An error with a stable `WEIR_E_TESTKIT_*` code. */
export class TestkitError extends Error {
  override readonly name = 'TestkitError';
  constructor(
    readonly code: TestkitErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}
