// Request body size limits, enforced on the Node request before Yoga reads it: a declared
// Content-Length over the limit is refused unread, and a chunked body is counted as it streams and
// cut off at the limit. JSON (and any other non-multipart) bodies get FLOWGRAPH_MAX_BODY_BYTES;
// multipart uploads get FLOWGRAPH_MAX_UPLOAD_BYTES. The refusal is a 413 with a GraphQL-shaped body.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import type { LimitsConfig } from '../config.ts';

export type BodyLimits = Pick<LimitsConfig, 'maxBodyBytes' | 'maxUploadBytes'>;

function refuse(res: ServerResponse, limit: number, upload: boolean): void {
  if (res.headersSent || res.writableEnded) return;
  const body = JSON.stringify({
    errors: [
      {
        message: `The request body is larger than ${limit} bytes, the most this server accepts${upload ? ' for an upload' : ''}.`,
        extensions: { code: 'PAYLOAD_TOO_LARGE', limitBytes: limit },
      },
    ],
  });
  // The rest of the body is never read, so the connection cannot be reused.
  res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

export function withBodyLimit(handler: RequestListener, limits: BodyLimits, onRefused?: (req: IncomingMessage) => void): RequestListener {
  return (req, res) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') {
      handler(req, res);
      return;
    }
    const upload = /^\s*multipart\/form-data/i.test(req.headers['content-type'] ?? '');
    const limit = upload ? limits.maxUploadBytes : limits.maxBodyBytes;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      onRefused?.(req);
      refuse(res, limit, upload);
      return;
    }
    let received = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (received <= limit) {
          callback(null, chunk);
          return;
        }
        onRefused?.(req);
        refuse(res, limit, upload);
        req.unpipe(counted);
        callback(Object.assign(new Error('request body too large'), { code: 'PAYLOAD_TOO_LARGE' }));
      },
    });
    req.on('aborted', () => counted.destroy());
    req.pipe(counted);
    // @whatwg-node/server reads `req.body` instead of the request stream when it is set, so Yoga
    // sees exactly the bytes that passed the count.
    (req as IncomingMessage & { body?: unknown }).body = counted;
    handler(req, res);
  };
}
