/**
 * The server statements prepared on one connection, least recently used first.
 * A Map keeps insertion order: touching = delete + set.
 *
 * Besides the names it holds, the cache keeps the names the server *may* still have although
 * the cache does not count them ("doubtful"): a Close of an evicted statement that the server
 * skipped (an earlier message failed), statements a DISCARD ALL may or may not have removed, a
 * Parse that failed or was skipped. They are closed on the server before the next Parse sent
 * on this connection, so the server never holds more than the bound and never answers "already
 * exists". And it counts the Parses still unanswered: a statement whose Parse is in flight is
 * not known to exist yet.
 */
export class ConnectionStatements {
  /** Name → when its Parse was sent here (the plugin's Parse counter), least recently used first. */
  private readonly names = new Map<string, number>();
  private readonly doubtful = new Map<string, number>();
  private readonly parsing = new Map<string, number>();
  private version = 0;

  constructor(readonly pool: string, private readonly max: number) {}

  get size(): number {
    return this.names.size;
  }

  /** Is `name` prepared here? Marks it recently used. */
  has(name: string): boolean {
    const at = this.names.get(name);
    if (at === undefined) return false;
    this.names.delete(name);
    this.names.set(name, at);
    return true;
  }

  /** When the Parse of `name` held here was sent (undefined: not held). */
  preparedAt(name: string): number | undefined {
    return this.names.get(name);
  }

  /** Record `name` as prepared by a Parse sent at `at`; returns the name evicted to stay within the bound, if any. */
  add(name: string, at = 0): string | null {
    this.names.delete(name);
    this.names.set(name, at);
    if (this.names.size <= this.max) return null;
    const oldest = this.names.keys().next().value as string;
    this.names.delete(oldest);
    return oldest;
  }

  delete(name: string): void {
    this.names.delete(name);
  }

  /** Forget every statement, keeping them as doubtful (DISCARD ALL sent: it may fail). Returns their doubt versions. */
  clear(): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    for (const name of this.names.keys()) out.push([name, this.doubt(name)]);
    this.names.clear();
    return out;
  }

  list(): string[] {
    return [...this.names.keys()];
  }

  /** The server may hold `name` beyond what the cache counts. Returns the version of this doubt. */
  doubt(name: string): number {
    const v = ++this.version;
    this.doubtful.set(name, v);
    return v;
  }

  /** The doubt with version `v` (if still the latest about `name`) is settled: the server does not hold it, or the cache counts it. */
  resolve(name: string, v: number): void {
    if (this.doubtful.get(name) === v) this.doubtful.delete(name);
  }

  /** A Parse of `name` worked: if the cache still counts it, it is certain. */
  confirm(name: string): void {
    if (this.names.has(name)) this.doubtful.delete(name);
  }

  isDoubtful(name: string): boolean {
    return this.doubtful.has(name);
  }

  /** Doubtful names the cache does not count (to close on the server), with their doubt versions. */
  strays(): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    for (const [name, v] of this.doubtful) if (!this.names.has(name)) out.push([name, v]);
    return out;
  }

  /** How many names the server may hold beyond the cache. */
  get doubts(): number {
    return this.doubtful.size;
  }

  /** A Parse of `name` was sent. */
  parseSent(name: string): void {
    this.parsing.set(name, (this.parsing.get(name) ?? 0) + 1);
  }

  /** A Parse of `name` was answered (or failed, or was skipped). Returns how many are still unanswered. */
  parseDone(name: string): number {
    const n = (this.parsing.get(name) ?? 1) - 1;
    if (n <= 0) this.parsing.delete(name);
    else this.parsing.set(name, n);
    return Math.max(0, n);
  }

  /** Is `name` known to exist (held, no Parse of it unanswered, not in doubt)? */
  settled(name: string): boolean {
    return this.names.has(name) && !this.parsing.has(name) && !this.doubtful.has(name);
  }
}
