// The validated environment. Read once, at start-up, by the entry points (server, CLIs); nothing else
// reads process.env, so tests can build an app from an explicit configuration.
import path from 'node:path';
import { getHeapStatistics } from 'node:v8';
import ms from 'ms';
import { DEFAULT_IMPORT_SETTINGS, type ImportSettings } from './domain/import-settings.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE_CEILING } from './domain/page-size.ts';
import { loadTrustedDocuments, TrustedDocumentsError } from './graphql/trusted-documents.ts';
import { tracingFromEnvironment } from './observability/tracing-hooks.ts';

/** `jwt`: bearer tokens only. `dev`: also the header-based viewer, and a printed dev token. */
export type AuthMode = 'jwt' | 'dev';

export interface AuthConfig {
  mode: AuthMode;
  /** HS256 shared secret (at least 32 bytes). Exactly one of jwtSecret and jwksUrl in jwt mode. */
  jwtSecret: string | undefined;
  /** URL of a JSON Web Key Set (RS256, ES256, PS256, EdDSA keys). */
  jwksUrl: string | undefined;
  /** Required `iss` claim. */
  issuer: string;
  /** Required `aud` claim. */
  audience: string;
  /** Leeway for `exp` and `nbf`, for clocks that disagree a little. */
  clockToleranceSeconds: number;
}

/** Every bound an operation, a request or a socket must stay within. */
export interface LimitsConfig {
  /** Deepest field nesting of an operation. */
  maxDepth: number;
  /** Most aliases in an operation. */
  maxAliases: number;
  /** Most directives in an operation. */
  maxDirectives: number;
  /** Most lexical tokens in an operation document. */
  maxTokens: number;
  /** Highest GraphQL Armor cost of an operation (page sizes multiply, from literals and variables). */
  maxCost: number;
  /** Largest `first`/`last` a connection accepts. */
  maxPageSize: number;
  /**
   * Largest request body that is not a multipart upload (inline import rows count here, so it follows
   * the upload limit by default). Uploads are limited part by part: src/http/multipart-upload.ts and
   * the import settings.
   */
  maxBodyBytes: number;
  /** Most operations in one batched HTTP request; 0 turns batching off. */
  maxBatch: number;
  /** How long one query may run before the client gets REQUEST_TIMEOUT (mutations have their own timeouts). */
  requestTimeoutMs: number;
  /** How long PostgreSQL lets one SQL statement run (statement_timeout). */
  statementTimeoutMs: number;
  /** How long opening a PostgreSQL connection may take before the request fails as unavailable. */
  dbConnectTimeoutMs: number;
  /** How long /ready waits for the database before answering "not ready". */
  readyTimeoutMs: number;
  /** How long the server waits for a whole HTTP request (headers and body) to arrive. */
  httpReceiveTimeoutMs: number;
  /** Largest graphql-ws message. */
  wsMaxPayloadBytes: number;
  /** How long a graphql-ws socket may stay open without `connection_init`. */
  wsInitTimeoutMs: number;
  /** Most operations running at once on one graphql-ws socket. */
  wsMaxSubscriptions: number;
  // The memory budget (issue 16): what one client may make this process hold, derived from the V8 heap
  // limit where memory is what the limit protects (src/http/memory-budget.ts explains each figure).
  /** Largest response (its JSON), checked before the rows are loaded on the compiled path. */
  maxResponseBytes: number;
  /** Most items in any list argument (`nodes(ids:)`, filter lists); inline import rows are limited in bytes. */
  maxListLength: number;
  /** Bytes of compiled reads kept in the read cache (an estimate of their heap size). */
  readCacheBytes: number;
  /** Bytes of parsed documents (and what hangs off them) kept in Yoga's document cache (an estimate). */
  documentCacheBytes: number;
  /** An upload that delivers less than 16 KiB within this time is ended and its import rolled back. */
  uploadIdleTimeoutMs: number;
  /** Request bodies being received at once (unfinished); beyond it `503` with Retry-After. */
  maxPendingBodies: number;
  /** Heap request bodies (not uploads, which stream) may take at once, each at 8× its size; beyond it `503`. */
  bodyBudgetBytes: number;
  /** graphql-ws sockets per user (tenant and user id), and in this process. */
  wsMaxSocketsPerUser: number;
  wsMaxSockets: number;
  /** graphql-ws operations running at once per user, and in this process. */
  maxSubscriptionsPerUser: number;
  maxSubscriptions: number;
  /** Open SSE streams per user, and in this process. */
  sseMaxStreamsPerUser: number;
  sseMaxStreams: number;
}

/** The modes NODE_ENV may name; anything else (a typo such as `prod`) stops the server. */
export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

export interface Config {
  nodeEnv: NodeEnv;
  /** PostgreSQL connection string; when absent flowgraph runs on embedded PGlite. */
  databaseUrl: string | undefined;
  /** Where PGlite keeps its files (ignored with databaseUrl). `memory://` keeps nothing. */
  dataDir: string;
  port: number;
  host: string;
  /** Seed the demo tenant into an empty database (by default in development mode only). */
  seed: boolean;
  /** Report SQL statement counts in each response's `extensions`. */
  debugSql: boolean;
  /** Answer the reads the compiled read path covers with one SQL statement (src/graphql/compiled-reads/). */
  compiledReads: boolean;
  /** Send compiled reads as named prepared statements (PostgreSQL; off behind a pooler that drops them). */
  preparedReads: boolean;
  /** How long SIGTERM waits for in-flight requests before closing anyway. */
  shutdownGraceMs: number;
  auth: AuthConfig;
  limits: LimitsConfig;
  /** Whether introspection queries are answered. */
  introspection: boolean;
  /** Whether GET /graphql from a browser serves GraphiQL. */
  graphiql: boolean;
  /** pino level of the structured logs (`silent` turns them off). */
  logLevel: LogLevel;
  /** Whether /metrics serves Prometheus metrics. */
  metrics: boolean;
  /** Bearer token /metrics requires (FLOWGRAPH_METRICS_TOKEN); required in production while metrics are on. */
  metricsToken?: string;
  /** Limits and tuning of storeImport. */
  imports: ImportSettings;
  /** Flow events older than this are pruned (FLOWGRAPH_EVENT_RETENTION, default 7 days). */
  eventRetentionMs: number;
  /** How often the pruning job runs (FLOWGRAPH_EVENT_PRUNE_INTERVAL, default 1 hour). */
  eventPruneIntervalMs: number;
  /** Live events queued for one subscriber before its subscription ends (FLOWGRAPH_SUBSCRIPTION_BUFFER). */
  subscriptionBufferSize: number;
  /** Seals flow event cursors so clients cannot read log positions (FLOWGRAPH_CURSOR_KEY); plain without it. */
  cursorKey?: string;
  /** Origins of web pages other than the server's own that may call the API from a browser (FLOWGRAPH_CORS_ORIGINS). */
  corsOrigins: string[];
  /**
   * Manifests of trusted documents (FLOWGRAPH_TRUSTED_DOCUMENTS, comma-separated paths): when any is given,
   * only their documents and the dashboard's run (src/graphql/trusted-documents.ts).
   */
  trustedDocuments: string[];
  /** OpenTelemetry tracing (OTEL_EXPORTER_OTLP_ENDPOINT set): src/observability/tracing.ts. */
  tracing?: { serviceName: string };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const MIB = 1024 * 1024;

/** The V8 heap this process may use (`--max-old-space-size`, FLOWGRAPH_HEAP_MB under `npm start`), in MiB. */
export function heapLimitMiB(): number {
  return Math.max(64, Math.floor(getHeapStatistics().heap_size_limit / MIB));
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name} must be 1 or 0 (true or false), got "${raw}"`);
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(values as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function httpUrl(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  return url.toString();
}

function loadAuth(env: Env, production: boolean, embedded: boolean): AuthConfig {
  // Development conveniences are on by default only where nobody else can reach real data: the
  // embedded database outside production.
  const mode = oneOf<AuthMode>(env, 'FLOWGRAPH_AUTH', ['jwt', 'dev'], embedded && !production ? 'dev' : 'jwt');
  if (mode === 'dev' && production) {
    throw new ConfigError('FLOWGRAPH_AUTH=dev is refused when NODE_ENV=production: configure FLOWGRAPH_JWT_SECRET or FLOWGRAPH_JWKS_URL');
  }
  const jwtSecret = env.FLOWGRAPH_JWT_SECRET || undefined;
  const jwksUrl = httpUrl(env, 'FLOWGRAPH_JWKS_URL');
  if (jwtSecret && jwksUrl) throw new ConfigError('Set FLOWGRAPH_JWT_SECRET or FLOWGRAPH_JWKS_URL, not both');
  if (jwtSecret && Buffer.byteLength(jwtSecret) < 32) {
    throw new ConfigError('FLOWGRAPH_JWT_SECRET must be at least 32 bytes long (HS256 needs a 256-bit key)');
  }
  const issuer = env.FLOWGRAPH_JWT_ISSUER || undefined;
  const audience = env.FLOWGRAPH_JWT_AUDIENCE || undefined;
  if (mode === 'jwt') {
    if (!jwtSecret && !jwksUrl) {
      throw new ConfigError(
        'Authentication needs FLOWGRAPH_JWT_SECRET (HS256) or FLOWGRAPH_JWKS_URL, with FLOWGRAPH_JWT_ISSUER and ' +
          'FLOWGRAPH_JWT_AUDIENCE (or FLOWGRAPH_AUTH=dev outside production)',
      );
    }
    if (!issuer || !audience) throw new ConfigError('FLOWGRAPH_JWT_ISSUER and FLOWGRAPH_JWT_AUDIENCE are required');
  }
  return {
    mode,
    jwtSecret,
    jwksUrl,
    issuer: issuer ?? 'flowgraph-dev',
    audience: audience ?? 'flowgraph',
    clockToleranceSeconds: integer(env, 'FLOWGRAPH_JWT_CLOCK_TOLERANCE_S', 5, 0, 300),
  };
}

/** A duration such as `7d`, `12h`, `30m`, `90s` or `500ms` (the `ms` package's format), or milliseconds. */
function duration(env: Env, name: string, fallback: string, minMs: number): number {
  const raw = env[name] || fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : (ms as (text: string) => number | undefined)(raw);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minMs || value > 2_147_483_647_000) {
    throw new ConfigError(`${name} must be a duration such as 7d, 12h, 30m or 90s (at least ${minMs} ms), got "${raw}"`);
  }
  return Math.round(value);
}

function loadImports(env: Env): ImportSettings {
  return {
    ...DEFAULT_IMPORT_SETTINGS,
    maxFileBytes: integer(env, 'FLOWGRAPH_MAX_UPLOAD_BYTES', DEFAULT_IMPORT_SETTINGS.maxFileBytes, 1, Number.MAX_SAFE_INTEGER),
    maxRowBytes: integer(env, 'FLOWGRAPH_MAX_ROW_BYTES', DEFAULT_IMPORT_SETTINGS.maxRowBytes, 1_024, 256 * 1024 * 1024),
    batchRows: integer(env, 'FLOWGRAPH_IMPORT_BATCH_ROWS', DEFAULT_IMPORT_SETTINGS.batchRows, 1, 50_000),
    transactionTimeoutMs: integer(env, 'FLOWGRAPH_IMPORT_TIMEOUT_MS', DEFAULT_IMPORT_SETTINGS.transactionTimeoutMs, 1_000, 24 * 60 * 60 * 1000),
    progressEveryRows: integer(env, 'FLOWGRAPH_IMPORT_PROGRESS_ROWS', 100_000, 0, Number.MAX_SAFE_INTEGER),
  };
}

function loadLimits(env: Env, imports: ImportSettings = DEFAULT_IMPORT_SETTINGS, heapMiB = heapLimitMiB()): LimitsConfig {
  const heap = heapMiB * MIB;
  const limits: LimitsConfig = {
    maxDepth: integer(env, 'FLOWGRAPH_MAX_DEPTH', 15, 2, 100),
    maxAliases: integer(env, 'FLOWGRAPH_MAX_ALIASES', 15, 0, 1_000),
    maxDirectives: integer(env, 'FLOWGRAPH_MAX_DIRECTIVES', 20, 0, 1_000),
    maxTokens: integer(env, 'FLOWGRAPH_MAX_TOKENS', 2_000, 50, 100_000),
    maxCost: integer(env, 'FLOWGRAPH_MAX_COST', 1_000_000, 10, 1_000_000_000),
    maxPageSize: integer(env, 'FLOWGRAPH_MAX_PAGE_SIZE', 500, 1, MAX_PAGE_SIZE_CEILING),
    // A JSON body is held whole, parsed (inline rows of small objects take ~10 times their text), coerced and
    // fingerprinted, so its limit is what the heap holds without the collector stalling requests (1/64 of it,
    // 4.75 MiB under npm start's 256 MiB old space; test/memory-budget.test.ts sends one in its worst shape),
    // not the upload limit: files stream, inline rows do not.
    maxBodyBytes: integer(env, 'FLOWGRAPH_MAX_BODY_BYTES', Math.min(imports.maxFileBytes + MIB, Math.floor(heap / 64)), 1_024, Number.MAX_SAFE_INTEGER),
    maxBatch: integer(env, 'FLOWGRAPH_MAX_BATCH', 0, 0, 100),
    requestTimeoutMs: integer(env, 'FLOWGRAPH_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
    statementTimeoutMs: integer(env, 'FLOWGRAPH_STATEMENT_TIMEOUT_MS', 20_000, 100, 600_000),
    dbConnectTimeoutMs: integer(env, 'FLOWGRAPH_DB_CONNECT_TIMEOUT_MS', 5_000, 100, 120_000),
    readyTimeoutMs: integer(env, 'FLOWGRAPH_READY_TIMEOUT_MS', 2_000, 100, 60_000),
    // Uploads stream for as long as an import may take; headers must arrive within a minute anyway.
    httpReceiveTimeoutMs: integer(env, 'FLOWGRAPH_HTTP_RECEIVE_TIMEOUT_MS', imports.transactionTimeoutMs, 1_000, 24 * 3_600_000),
    wsMaxPayloadBytes: integer(env, 'FLOWGRAPH_WS_MAX_PAYLOAD_BYTES', MIB, 1_024, 64 * MIB),
    wsInitTimeoutMs: integer(env, 'FLOWGRAPH_WS_INIT_TIMEOUT_MS', 3_000, 100, 120_000),
    wsMaxSubscriptions: integer(env, 'FLOWGRAPH_WS_MAX_SUBSCRIPTIONS', 20, 1, 1_000),
    maxResponseBytes: integer(env, 'FLOWGRAPH_MAX_RESPONSE_BYTES', Math.floor(heap / 16), 1_024, Number.MAX_SAFE_INTEGER),
    maxListLength: integer(env, 'FLOWGRAPH_MAX_LIST_LENGTH', 100, 1, 100_000),
    readCacheBytes: integer(env, 'FLOWGRAPH_READ_CACHE_BYTES', Math.floor(heap / 32), 0, Number.MAX_SAFE_INTEGER),
    documentCacheBytes: integer(env, 'FLOWGRAPH_DOCUMENT_CACHE_BYTES', Math.floor(heap / 16), 0, Number.MAX_SAFE_INTEGER),
    uploadIdleTimeoutMs: integer(env, 'FLOWGRAPH_UPLOAD_IDLE_TIMEOUT_MS', 30_000, 100, 3_600_000),
    maxPendingBodies: integer(env, 'FLOWGRAPH_MAX_PENDING_BODIES', 64, 1, 100_000),
    bodyBudgetBytes: integer(env, 'FLOWGRAPH_BODY_BUDGET_BYTES', Math.floor((heap * 5) / 16), 1_024, Number.MAX_SAFE_INTEGER),
    wsMaxSocketsPerUser: integer(env, 'FLOWGRAPH_WS_MAX_SOCKETS_PER_USER', 20, 1, 1_000_000),
    wsMaxSockets: integer(env, 'FLOWGRAPH_WS_MAX_SOCKETS', heapMiB * 8, 1, 1_000_000),
    maxSubscriptionsPerUser: integer(env, 'FLOWGRAPH_MAX_SUBSCRIPTIONS_PER_USER', 100, 1, 1_000_000),
    maxSubscriptions: integer(env, 'FLOWGRAPH_MAX_SUBSCRIPTIONS', heapMiB * 16, 1, 10_000_000),
    sseMaxStreamsPerUser: integer(env, 'FLOWGRAPH_SSE_MAX_STREAMS_PER_USER', 20, 1, 1_000_000),
    sseMaxStreams: integer(env, 'FLOWGRAPH_SSE_MAX_STREAMS', heapMiB * 4, 1, 1_000_000),
  };
  return limits;
}

export function loadConfig(env: Env = process.env): Config {
  // A mode nobody meant would silently run with development defaults (no authentication on the embedded
  // database), so only the three known ones are accepted.
  const nodeEnv = oneOf<NodeEnv>(env, 'NODE_ENV', NODE_ENVS, 'development');
  const production = nodeEnv === 'production';
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const imports = loadImports(env);
  const limits = loadLimits(env, imports);
  // A connection asked for no size returns DEFAULT_PAGE_SIZE items (the schema documents it), so the cap cannot
  // be lower.
  if (limits.maxPageSize < DEFAULT_PAGE_SIZE) {
    throw new ConfigError(`FLOWGRAPH_MAX_PAGE_SIZE cannot be below the default page size (${DEFAULT_PAGE_SIZE})`);
  }
  const auth = loadAuth(env, production, !databaseUrl);
  return {
    nodeEnv,
    databaseUrl,
    dataDir: env.FLOWGRAPH_DATA_DIR || path.resolve('.flowgraph/pglite'),
    port: integer(env, 'PORT', 4000, 0, 65_535),
    host: env.HOST || (auth.mode === 'dev' ? '127.0.0.1' : '0.0.0.0'),
    // Demo data belongs on a developer's machine; elsewhere only when asked for.
    seed: flag(env, 'FLOWGRAPH_SEED', nodeEnv === 'development'),
    debugSql: flag(env, 'FLOWGRAPH_DEBUG_SQL', false),
    compiledReads: flag(env, 'FLOWGRAPH_COMPILED_READS', true),
    preparedReads: flag(env, 'FLOWGRAPH_PREPARED_READS', true),
    shutdownGraceMs: integer(env, 'FLOWGRAPH_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    auth,
    limits,
    introspection: flag(env, 'FLOWGRAPH_INTROSPECTION', !production),
    graphiql: flag(env, 'FLOWGRAPH_GRAPHIQL', !production),
    logLevel: oneOf(env, 'FLOWGRAPH_LOG_LEVEL', LOG_LEVELS, 'info'),
    ...metricsSettings(env, production),
    imports,
    eventRetentionMs: duration(env, 'FLOWGRAPH_EVENT_RETENTION', '7d', 1_000),
    // setTimeout cannot wait longer than 2^31-1 ms.
    eventPruneIntervalMs: Math.min(duration(env, 'FLOWGRAPH_EVENT_PRUNE_INTERVAL', '1h', 100), 2_147_483_647),
    subscriptionBufferSize: integer(env, 'FLOWGRAPH_SUBSCRIPTION_BUFFER', 1_000, 1, 1_000_000),
    ...cursorKey(env),
    corsOrigins: corsOrigins(env),
    trustedDocuments: trustedDocuments(env),
    ...(tracingFromEnvironment(env) ? { tracing: tracingFromEnvironment(env)! } : {}),
  };
}

function metricsSettings(env: Env, production: boolean): { metrics: boolean; metricsToken?: string } {
  const metrics = flag(env, 'FLOWGRAPH_METRICS', true);
  const token = env.FLOWGRAPH_METRICS_TOKEN || undefined;
  if (token !== undefined && Buffer.byteLength(token) < 16) throw new ConfigError('FLOWGRAPH_METRICS_TOKEN must be at least 16 bytes long');
  // Metrics tell anyone who reaches the port how busy the server is and which operations clients run.
  if (metrics && production && token === undefined) {
    throw new ConfigError(
      'In production /metrics needs FLOWGRAPH_METRICS_TOKEN (the bearer token Prometheus sends), or FLOWGRAPH_METRICS=0',
    );
  }
  return token === undefined ? { metrics } : { metrics, metricsToken: token };
}

/** FLOWGRAPH_CORS_ORIGINS: comma-separated origins (`https://app.example.com`), each exactly as a browser sends it. */
function corsOrigins(env: Env): string[] {
  const raw = env.FLOWGRAPH_CORS_ORIGINS;
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((entry) => {
    const origin = entry.trim();
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    // An origin is a scheme, a host and a port, nothing more; `*` would let every page in.
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin) {
      throw new ConfigError(`FLOWGRAPH_CORS_ORIGINS must list origins such as https://app.example.com (no path, no *), got "${origin}"`);
    }
    return origin;
  });
}

function trustedDocuments(env: Env): string[] {
  const paths = (env.FLOWGRAPH_TRUSTED_DOCUMENTS ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  if (paths.length === 0) return [];
  const resolved = paths.map((entry) => path.resolve(entry));
  try {
    loadTrustedDocuments(resolved);
  } catch (error) {
    if (error instanceof TrustedDocumentsError) throw new ConfigError(`FLOWGRAPH_TRUSTED_DOCUMENTS: ${error.message}`);
    throw error;
  }
  return resolved;
}

function cursorKey(env: Env): { cursorKey?: string } {
  const key = env.FLOWGRAPH_CURSOR_KEY || undefined;
  if (key === undefined) return {};
  // The key is stretched with HKDF, but a short secret can still be guessed and then cursors read.
  if (Buffer.byteLength(key) < 32) throw new ConfigError('FLOWGRAPH_CURSOR_KEY must be at least 32 bytes long');
  return { cursorKey: key };
}

/** The limits tests and embedders start from: the defaults of an empty environment. */
export const DEFAULT_LIMITS: LimitsConfig = loadLimits({});
