import { rowDescription, dataRow, commandComplete, readyForQuery } from '@weir/protocol';
import type { Report } from '@weir/kernel';

type Cell = string | number | boolean | null | undefined;

function cell(v: Cell): string | null {
  if (v === null || v === undefined) return null;
  return String(v);
}

/** Encode a result set for the admin console: RowDescription, DataRows, CommandComplete, ReadyForQuery. */
export function table(columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<Cell>>, tag = 'SHOW'): Buffer {
  const parts: Buffer[] = [rowDescription(columns.map((name) => ({ name })))];
  for (const row of rows) parts.push(dataRow(row.map(cell)));
  parts.push(commandComplete(tag), readyForQuery('I'));
  return Buffer.concat(parts);
}

export function reportTable(report: Report): Buffer {
  return table(report.columns, report.rows);
}

export function done(tag: string): Buffer {
  return Buffer.concat([commandComplete(tag), readyForQuery('I')]);
}
