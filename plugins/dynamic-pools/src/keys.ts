import type { PoolKey, PoolRegistry, RegistryEntry } from '@weir/kernel';

/**
 * The set of dynamic pools: every registry entry of kind `dynamic`, as of now. A live view
 * over the registry's snapshot, so it can never disagree with the registry.
 */
export interface DynamicPoolKeys {
  /** How many dynamic pools there are. */
  readonly size: number;
  has(database: string, user: string): boolean;
  /** Every dynamic pool key (a fresh array). */
  keys(): PoolKey[];
  /** The dynamic pool keys of one database (a fresh array). */
  ofDatabase(database: string): PoolKey[];
}

/** DynamicPoolKeys over a PoolRegistry; the filtered list is remembered per registry snapshot. */
export class RegistryDynamicKeys implements DynamicPoolKeys {
  private seen: ReadonlyMap<string, RegistryEntry> | null = null;
  private list: readonly RegistryEntry[] = [];

  constructor(private readonly registry: PoolRegistry) {}

  private current(): readonly RegistryEntry[] {
    const snap = this.registry.snapshot();
    if (snap !== this.seen) {
      const out: RegistryEntry[] = [];
      for (const e of snap.values()) if (e.kind === 'dynamic') out.push(e);
      this.seen = snap;
      this.list = out;
    }
    return this.list;
  }

  get size(): number {
    return this.current().length;
  }

  has(database: string, user: string): boolean {
    return this.registry.get(database, user)?.kind === 'dynamic';
  }

  keys(): PoolKey[] {
    return this.current().map((e) => e.key);
  }

  ofDatabase(database: string): PoolKey[] {
    const out: PoolKey[] = [];
    for (const e of this.current()) if (e.key.database === database) out.push(e.key);
    return out;
  }
}
