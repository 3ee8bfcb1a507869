import type { ConnectionId } from './types.js';

let last = 0;

/** Next process-unique, monotonically increasing ConnectionId. */
export function nextConnectionId(): ConnectionId {
  return ++last;
}
