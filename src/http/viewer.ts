// Who is calling. Until authentication lands, the tenant and user come from request headers (HTTP)
// or connectionParams (graphql-ws); a request without them is refused with a clear error.
import { GraphQLError } from 'graphql';
import type { Viewer } from '../context.ts';
import { isUuid } from '../domain/uuid.ts';

export const VIEWER_HEADERS = {
  clientAccountId: 'x-client-account-id',
  engagementId: 'x-engagement-id',
  userId: 'x-user-id',
} as const;

export class MissingViewerError extends GraphQLError {
  constructor(problem: string) {
    super(
      `${problem} Send the headers ${Object.values(VIEWER_HEADERS).join(', ')} ` +
        '(over graphql-ws: the same names in connectionParams).',
      { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } },
    );
  }
}

/** Reads the viewer from header-like values; throws MissingViewerError when they are absent or malformed. */
export function viewerFrom(read: (name: string) => unknown): Viewer {
  const values = Object.fromEntries(
    Object.entries(VIEWER_HEADERS).map(([key, header]) => {
      const value = read(header);
      return [key, typeof value === 'string' ? value.trim() : ''];
    }),
  ) as Record<keyof Viewer, string>;
  const missing = Object.entries(values).filter(([, value]) => value === '').map(([key]) => VIEWER_HEADERS[key as keyof Viewer]);
  if (missing.length > 0) throw new MissingViewerError(`Missing ${missing.join(', ')}.`);
  for (const key of ['clientAccountId', 'engagementId'] as const) {
    if (!isUuid(values[key])) throw new MissingViewerError(`${VIEWER_HEADERS[key]} must be a uuid.`);
  }
  if (values.userId.length > 255) throw new MissingViewerError(`${VIEWER_HEADERS.userId} is longer than 255 characters.`);
  return values;
}
