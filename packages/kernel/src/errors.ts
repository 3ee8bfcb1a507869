/**
 * Coded errors. Every error the kernel raises is a WeirError whose `code` starts
 * with WEIR_E_ and whose `details` name the pool, plugin, hook or key involved.
 */

export const ErrorCodes = {
  ACQUIRE_TIMEOUT: 'WEIR_E_ACQUIRE_TIMEOUT',
  ACQUIRE_ABORTED: 'WEIR_E_ACQUIRE_ABORTED',
  POOL_RETIRED: 'WEIR_E_POOL_RETIRED',
  POOL_CLOSED: 'WEIR_E_POOL_CLOSED',
  CONNECT_FAILED: 'WEIR_E_CONNECT_FAILED',
  CONNECT_TIMEOUT: 'WEIR_E_CONNECT_TIMEOUT',
  HOOK_FAILED: 'WEIR_E_HOOK_FAILED',
  HOOK_UNKNOWN: 'WEIR_E_HOOK_UNKNOWN',
  HOOK_INVALID_HANDLER: 'WEIR_E_HOOK_INVALID_HANDLER',
  HOOK_LATE: 'WEIR_E_HOOK_LATE',
  PLUGIN_UNKNOWN_DEPENDENCY: 'WEIR_E_PLUGIN_UNKNOWN_DEPENDENCY',
  PLUGIN_DEPENDENCY_DISABLED: 'WEIR_E_PLUGIN_DEPENDENCY_DISABLED',
  PLUGIN_CYCLE: 'WEIR_E_PLUGIN_CYCLE',
  PLUGIN_NOT_FOUND: 'WEIR_E_PLUGIN_NOT_FOUND',
  PLUGIN_DISABLED_CONFIG: 'WEIR_E_PLUGIN_DISABLED_CONFIG',
  PLUGIN_DUPLICATE: 'WEIR_E_PLUGIN_DUPLICATE',
  PLUGIN_INVALID: 'WEIR_E_PLUGIN_INVALID',
  PLUGIN_KERNEL_VERSION: 'WEIR_E_PLUGIN_KERNEL_VERSION',
  PLUGIN_SETUP_FAILED: 'WEIR_E_PLUGIN_SETUP_FAILED',
  NO_POOL_FACTORY: 'WEIR_E_NO_POOL_FACTORY',
  CONFIG_INVALID: 'WEIR_E_CONFIG_INVALID',
  CONFIG_READ: 'WEIR_E_CONFIG_READ',
  ALREADY_STARTED: 'WEIR_E_ALREADY_STARTED',
  NOT_STARTED: 'WEIR_E_NOT_STARTED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class WeirError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WeirError';
    this.code = code;
    this.details = details ?? {};
  }
}

/** True when `err` is a WeirError (optionally with the given code). Works across package copies. */
export function isWeirError(err: unknown, code?: string): err is WeirError {
  if (err === null || typeof err !== 'object') return false;
  const c = (err as { code?: unknown }).code;
  if (typeof c !== 'string' || !c.startsWith('WEIR_E_')) return false;
  return code === undefined || c === code;
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
