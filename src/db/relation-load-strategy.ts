// Which of Prisma's relation load strategies a nested read should use (relationJoins is on, see
// prisma/schema.prisma). `join` answers a whole nested read with one statement, nesting the related rows as
// JSON built by PostgreSQL; `query` sends one statement per relation level and lets the client assemble them.
// Measured on the read benchmark (bench/RESULTS.md, reads): `join` wins while the nested pages are small (one
// statement instead of four), but building a large page of rows as JSONB costs PostgreSQL several times
// what reading the same rows plainly costs (a page of 500 raw records: ~7 ms of PostgreSQL CPU instead of ~2).
// So: `join`, unless some relation in the read asks for more than LARGE_PAGE rows.

export const LARGE_PAGE = 100;

type Strategy = 'join' | 'query';

/**
 * Relations whose rows are a file's rows: a master flow or an import has as many as its files had (hundreds of
 * thousands), where it has a handful of imports and discovery flows.
 */
const WIDE_RELATIONS = new Set(['rawRecords']);

/**
 * Whether a nested read is cheaper as one statement per level: when some nested page is large, or when a page of
 * a wide relation has relations of its own (a back-edge such as a raw record's import or master flow). `join`
 * builds the JSON of every nested row before it cuts the page (PostgreSQL cannot stop early inside the JSON
 * aggregate), so a page of 5 raw records that selects their master flow's records built that JSON for every
 * record of the flow: quadratic in the flow's size (on PostgreSQL, 20 s, the statement timeout, for 4 × 4 × 4 rows
 * of flows of about 200 records; test/query-cost.test.ts).
 */
function needsQueries(query: unknown): boolean {
  let needed = false;
  const visit = (node: unknown, relation: string | null) => {
    if (needed || typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (relation !== null && typeof record.take === 'number' && Math.abs(record.take) > LARGE_PAGE) needed = true;
    for (const key of ['include', 'select'] as const) {
      const children = record[key];
      if (typeof children !== 'object' || children === null) continue;
      for (const [name, child] of Object.entries(children)) {
        // In `include` every entry is a relation; in `select` relations are the entries with a query of their own.
        const isRelation = name !== '_count' && (key === 'include' ? Boolean(child) : typeof child === 'object' && child !== null);
        if (!isRelation) continue;
        if (relation !== null && WIDE_RELATIONS.has(relation) && record.take !== undefined) needed = true;
        visit(child, name);
      }
    }
  };
  visit(query, null);
  return needed;
}

export function relationLoadStrategyFor(query: unknown): Strategy {
  return needsQueries(query) ? 'query' : 'join';
}
