import { createToken, type Reports } from '@weir/kernel';

/** SHOW reports: plugins register `SHOW <NAME>` tables here (resolve it from the kernel container). */
export const REPORTS = createToken<Reports>('weir.reports');
