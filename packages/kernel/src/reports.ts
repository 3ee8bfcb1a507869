/**
 * Tabular reports plugins publish for hosts to show (the proxy's admin console turns
 * `SHOW <NAME>` into one). Plain data: no wire protocol here.
 */
export interface Report {
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<ReadonlyArray<string | number | boolean | null>>;
}

export type ReportSource = () => Report;

export class Reports {
  private readonly sources = new Map<string, { owner: string; source: ReportSource }>();

  /** Register `SHOW <name>`; names are case-insensitive. Returns an unregister function. */
  register(name: string, source: ReportSource, owner = 'unknown'): () => void {
    const key = name.toUpperCase();
    const existing = this.sources.get(key);
    if (existing) {
      throw Object.assign(new Error(`report "${key}" is already registered by ${existing.owner}`), { code: 'WEIR_E_REPORT_DUPLICATE' });
    }
    this.sources.set(key, { owner, source });
    return () => {
      if (this.sources.get(key)?.source === source) this.sources.delete(key);
    };
  }

  get(name: string): ReportSource | undefined {
    return this.sources.get(name.toUpperCase())?.source;
  }

  names(): string[] {
    return [...this.sources.keys()].sort();
  }
}

/** The host's Reports service: plugins resolve it to add `SHOW <NAME>` tables. */
export const REPORTS = Symbol('weir.Reports') as import('tsyringe').InjectionToken<Reports>;
