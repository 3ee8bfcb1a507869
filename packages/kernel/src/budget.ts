/** A pool as a budget sees it. */
export interface BudgetMember {
  /** The budget has room again: try to create what was refused. */
  budgetFreed(): void;
  /** Close one idle connection to make room for another pool; false if it has none to spare. */
  shedIdle(): boolean;
}

/**
 * A cap on connections shared by several pools — all pools to one database
 * (`max_db_connections`), all pools logging in as one user (`max_user_connections`). A pool
 * takes a slot when it starts a connection and gives it back when the connection closes or
 * fails. A pool whose clients wait while the budget is full is woken when a slot comes back,
 * and may first ask another member to close an idle connection (as PgBouncer does).
 */
export class ConnectionBudget {
  used = 0;
  private readonly members = new Set<BudgetMember>();
  private readonly waiting = new Set<BudgetMember>();

  /** `limit` 0 = no cap. */
  constructor(readonly name: string, private cap = 0) {}

  get limit(): number {
    return this.cap;
  }

  set limit(n: number) {
    this.cap = n;
    if (!this.full) this.wake();
  }

  get full(): boolean {
    return this.cap > 0 && this.used >= this.cap;
  }

  join(m: BudgetMember): void {
    this.members.add(m);
  }

  leave(m: BudgetMember): void {
    this.members.delete(m);
    this.waiting.delete(m);
  }

  take(n = 1): void {
    this.used += n;
  }

  give(n = 1): void {
    this.used -= n;
    if (this.used < 0) this.used = 0;
    if (this.waiting.size !== 0 && !this.full) this.wake();
  }

  /** Does a member other than `m` wait for a slot? */
  wanted(m: BudgetMember): boolean {
    if (this.waiting.size === 0) return false;
    return this.waiting.size > 1 || !this.waiting.has(m);
  }

  /** `m` needs a slot the budget cannot give now: wake it when one comes back; try to free one. */
  wait(m: BudgetMember, shed: boolean): void {
    this.waiting.add(m);
    if (!shed) return;
    for (const other of this.members) if (other !== m && other.shedIdle()) return;
  }

  private wake(): void {
    const list = [...this.waiting];
    this.waiting.clear();
    for (const m of list) m.budgetFreed();
  }
}
