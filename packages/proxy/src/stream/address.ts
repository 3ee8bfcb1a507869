/**
 * One string per distinct IP address: every connection from (or to) an address shares it, so
 * thousands of idle clients do not each keep their own copy of "127.0.0.1". Bounded: past
 * MAX_ADDRESSES distinct values the table starts over (strings already handed out stay valid).
 */
const MAX_ADDRESSES = 4096;
const table = new Map<string, string>();

export function internAddress(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const known = table.get(address);
  if (known !== undefined) return known;
  if (table.size >= MAX_ADDRESSES) table.clear();
  table.set(address, address);
  return address;
}
