// Which of Prisma's relation load strategies a nested read should use (relationJoins is on, see
// prisma/schema.prisma). `join` answers a whole nested read with one statement, nesting the related rows as
// JSON built by PostgreSQL; `query` sends one statement per relation level and lets the client assemble them.
// Measured on the read benchmark (bench/RESULTS.md, reads): `join` wins while the nested pages are small (one
// statement instead of four), but building a large page of rows as JSONB costs PostgreSQL several times
// what reading the same rows plainly costs (a page of 500 raw records: ~7 ms of PostgreSQL CPU instead of ~2).
// So: `join`, unless some relation in the read asks for more than LARGE_PAGE rows.

export const LARGE_PAGE = 100;

type Strategy = 'join' | 'query';

/** The largest `take` of any relation nested in a Prisma query object (include/select trees). */
function largestNestedTake(query: unknown): number {
  let largest = 0;
  const visit = (node: unknown, nested: boolean) => {
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (nested && typeof record.take === 'number') largest = Math.max(largest, Math.abs(record.take));
    for (const key of ['include', 'select'] as const) {
      const children = record[key];
      if (typeof children !== 'object' || children === null) continue;
      for (const child of Object.values(children)) visit(child, true);
    }
  };
  visit(query, false);
  return largest;
}

export function relationLoadStrategyFor(query: unknown): Strategy {
  return largestNestedTake(query) > LARGE_PAGE ? 'query' : 'join';
}
