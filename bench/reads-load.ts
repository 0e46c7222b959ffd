// Closed-model load with autocannon (from bench/reads-peers): a fixed number of connections, each sending its
// next request as soon as the previous response arrived. Every response body is checked: it must be
// byte-identical to a body that was fully checked against the database, or else pass that full check itself;
// an error, a non-2xx status or a wrong body stops the run and fails it.
import { createRequire } from 'node:module';
import { checkBody, type BenchRequest, type Canonical, type QueryName, type ServerName } from './reads-queries.ts';

interface AutocannonHistogram {
  average: number;
  mean: number;
  stddev: number;
  min: number;
  max: number;
  total: number;
  p50: number;
  p90: number;
  p99: number;
}

interface AutocannonResult {
  requests: AutocannonHistogram & { sent: number };
  latency: AutocannonHistogram;
  throughput: AutocannonHistogram;
  errors: number;
  timeouts: number;
  mismatches: number;
  non2xx: number;
  duration: number;
  '2xx': number;
}

interface AutocannonOptions {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  connections: number;
  pipelining: number;
  duration?: number;
  amount?: number;
  timeout: number;
  bailout: number;
  verifyBody: (body: string) => boolean;
}

type Autocannon = (options: AutocannonOptions) => Promise<AutocannonResult>;

let autocannon: Autocannon | undefined;

function loadAutocannon(): Autocannon {
  autocannon ??= createRequire(new URL('./reads-peers/package.json', import.meta.url))('autocannon') as Autocannon;
  return autocannon;
}

export interface LoadOptions {
  connections: number;
  /** Seconds; or use `amount`. */
  duration?: number;
  amount?: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Bodies that differed from the reference body and passed the full check (expected: 0). */
  fullyChecked: number;
}

/**
 * A body checker for one server and query: remembers the exact text of bodies that passed the full check, so
 * the (identical) bodies of a load run are checked by comparison, and any other body is checked in full.
 */
export class BodyChecker {
  private readonly good = new Set<string>();
  fullyChecked = 0;
  failure: Error | undefined;

  constructor(
    readonly server: ServerName,
    readonly query: QueryName,
    private readonly expected: Canonical,
  ) {}

  /** Full check; throws on a wrong body. */
  check(body: string): void {
    if (this.good.has(body)) return;
    checkBody(this.server, this.query, body, this.expected);
    this.fullyChecked += 1;
    if (this.good.size < 4) this.good.add(body);
  }

  /** For autocannon's verifyBody: never throws, records the first failure. */
  verify = (body: string): boolean => {
    try {
      this.check(body);
      return true;
    } catch (error) {
      this.failure ??= error as Error;
      return false;
    }
  };
}

export async function runLoad(baseUrl: string, request: BenchRequest, checker: BodyChecker, options: LoadOptions): Promise<LoadResult> {
  const before = checker.fullyChecked;
  const result = await loadAutocannon()({
    url: `${baseUrl}${request.path}`,
    method: 'POST',
    headers: request.headers,
    body: request.body,
    connections: options.connections,
    pipelining: 1,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? 10 }),
    timeout: 30,
    bailout: 1,
    verifyBody: checker.verify,
  });
  const problems = [
    checker.failure ? `wrong body: ${checker.failure.message}` : '',
    result.errors ? `${result.errors} connection errors` : '',
    result.timeouts ? `${result.timeouts} timeouts` : '',
    result.non2xx ? `${result.non2xx} non-2xx responses` : '',
    result.mismatches && !checker.failure ? `${result.mismatches} body mismatches` : '',
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`${checker.server} (${checker.query}) failed under load: ${problems.join('; ')}`);
  const requests = result['2xx'];
  if (requests === 0) throw new Error(`${checker.server} (${checker.query}) answered no request`);
  return {
    requests,
    seconds: result.duration,
    requestsPerSecond: requests / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    fullyChecked: checker.fullyChecked - before,
  };
}
