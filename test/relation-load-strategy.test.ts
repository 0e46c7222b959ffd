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

describe('relationLoadStrategyFor a page of raw records', () => {
  it('sends one statement per level when the page has relations of its own (back-edges), however small', () => {
    expect(relationLoadStrategyFor({ include: { rawRecords: { take: 5, include: { dataImport: true } } } })).toBe('query');
    expect(
      relationLoadStrategyFor({ select: { rawRecords: { take: 5, select: { id: true, masterFlow: { select: { rawRecords: { take: 5 } } } } } } }),
    ).toBe('query');
    expect(relationLoadStrategyFor({ include: { dataImports: { take: 5, include: { rawRecords: { take: 5, include: { _count: true } } } } } })).toBe('join');
    expect(relationLoadStrategyFor({ include: { rawRecords: { take: 5, select: { id: true, rawData: true } } } })).toBe('join');
    // A list of raw records without a page is not narrowed by one either way.
    expect(relationLoadStrategyFor({ include: { rawRecords: { include: { dataImport: true } } } })).toBe('join');
  });
});
