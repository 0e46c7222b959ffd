// Which relation load strategy a nested read gets (src/db/relation-load-strategy.ts).
import { describe, expect, it } from 'vitest';
import { LARGE_PAGE, relationLoadStrategyFor } from '../src/db/relation-load-strategy.ts';

describe('relationLoadStrategyFor', () => {
  it('joins when every nested page is small', () => {
    expect(relationLoadStrategyFor({})).toBe('join');
    expect(relationLoadStrategyFor({ take: 5_000 })).toBe('join'); // the root's own page does not count
    expect(
      relationLoadStrategyFor({
        include: {
          dataImports: { take: 51, include: { rawRecords: { take: LARGE_PAGE } } },
          discoveryFlows: true,
        },
      }),
    ).toBe('join');
  });

  it('sends one statement per level when some nested page is large, at any depth and in either direction', () => {
    expect(relationLoadStrategyFor({ include: { rawRecords: { take: 501 } } })).toBe('query');
    expect(relationLoadStrategyFor({ include: { rawRecords: { take: -501 } } })).toBe('query');
    expect(
      relationLoadStrategyFor({
        select: { id: true, dataImports: { select: { rawRecords: { take: LARGE_PAGE + 1 } } } },
      }),
    ).toBe('query');
  });
});
