// The view, its filters and its page live in the URL's hash (`#/?status=PAUSED&page=2&after=…`,
// `#/flows/<id>?records=invalid`), so a reload, a bookmark and the back and forward buttons keep them.
// Pages are cursor pages: the cursor of the page is in the URL with its number, for the pager to show.

export type Route = { view: 'flows'; params: URLSearchParams } | { view: 'flow'; flowId: string; params: URLSearchParams };

const FLOW = /^#\/flows\/([0-9a-f-]{36})$/i;

export function parseHash(hash: string): Route {
  const [path = '', query = ''] = hash.split('?', 2);
  const params = new URLSearchParams(query);
  const match = FLOW.exec(path);
  return match ? { view: 'flow', flowId: match[1]!.toLowerCase(), params } : { view: 'flows', params };
}

/** `#<path>?<params>`, leaving out empty values. */
export function hashFor(path: string, params: Record<string, string | number | null | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') query.set(name, String(value));
  }
  const text = query.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}

export interface PageState {
  page: number;
  after: string | null;
  before: string | null;
}

export function pageState(params: URLSearchParams): PageState {
  const page = Number.parseInt(params.get('page') ?? '1', 10);
  return { page: Number.isSafeInteger(page) && page > 1 ? page : 1, after: params.get('after'), before: params.get('before') };
}

/** The connection arguments of a page; page 1 is always the first page, whatever cursor came with it. */
export function pageArguments(state: PageState, size: number) {
  if (state.page === 1) return { first: size, after: null };
  return state.before ? { last: size, before: state.before } : { first: size, after: state.after };
}

/** The page parameters of the next and the previous page (page 1 without a cursor). */
export function nextPage(state: PageState, endCursor: string | null): Partial<Record<'page' | 'after' | 'before', string | number | null>> {
  return { page: state.page + 1, after: endCursor, before: null };
}

export function previousPage(state: PageState, startCursor: string | null): Partial<Record<'page' | 'after' | 'before', string | number | null>> {
  return state.page <= 2 ? { page: null, after: null, before: null } : { page: state.page - 1, before: startCursor, after: null };
}
