import { rowDescription, dataRow, commandComplete } from '@weir/protocol';
import type { Report } from '@weir/kernel';

type Cell = string | number | boolean | null | undefined;

function cell(v: Cell): string | null {
  if (v === null || v === undefined) return null;
  return String(v);
}

/** One admin result set: RowDescription, DataRows, CommandComplete (ReadyForQuery is the console's). */
export function table(columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<Cell>>, tag = 'SHOW'): Buffer {
  const parts: Buffer[] = [rowDescription(columns.map((name) => ({ name })))];
  for (const row of rows) parts.push(dataRow(row.map(cell)));
  parts.push(commandComplete(tag));
  return Buffer.concat(parts);
}

export function reportTable(report: Report): Buffer {
  return table(report.columns, report.rows);
}

export function done(tag: string): Buffer {
  return commandComplete(tag);
}
