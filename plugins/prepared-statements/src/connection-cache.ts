/**
 * The server statements prepared on one connection, least recently used first.
 * A Map keeps insertion order: touching = delete + set.
 */
export class ConnectionStatements {
  private readonly names = new Map<string, true>();

  constructor(readonly pool: string, private readonly max: number) {}

  get size(): number {
    return this.names.size;
  }

  /** Is `name` prepared here? Marks it recently used. */
  has(name: string): boolean {
    if (!this.names.delete(name)) return false;
    this.names.set(name, true);
    return true;
  }

  /** Record `name` as prepared; returns the name evicted to stay within the bound, if any. */
  add(name: string): string | null {
    this.names.delete(name);
    this.names.set(name, true);
    if (this.names.size <= this.max) return null;
    const oldest = this.names.keys().next().value as string;
    this.names.delete(oldest);
    return oldest;
  }

  delete(name: string): void {
    this.names.delete(name);
  }

  clear(): void {
    this.names.clear();
  }

  list(): string[] {
    return [...this.names.keys()];
  }
}
