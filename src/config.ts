// The validated environment. Read once, at start-up, by the entry points (server, CLIs); nothing else
// reads process.env, so tests can build an app from an explicit configuration.
import path from 'node:path';
import { DEFAULT_IMPORT_SETTINGS, type ImportSettings } from './domain/import-settings.ts';
import ms from 'ms';

export interface Config {
  /** PostgreSQL connection string; when absent flowgraph runs on embedded PGlite. */
  databaseUrl: string | undefined;
  /** Where PGlite keeps its files (ignored with databaseUrl). `memory://` keeps nothing. */
  dataDir: string;
  port: number;
  host: string;
  /** Seed the demo tenant into an empty database. */
  seed: boolean;
  /** Report SQL statement counts in each response's `extensions`. */
  debugSql: boolean;
  /** Page size when a connection is asked for no `first`/`last`. */
  defaultPageSize: number;
  /** Largest `first`/`last` a connection accepts. */
  maxPageSize: number;
  /** How long SIGTERM waits for in-flight requests before closing anyway. */
  shutdownGraceMs: number;
  /** Limits and tuning of storeImport. */
  imports: ImportSettings;
  /** Flow events older than this are pruned (FLOWGRAPH_EVENT_RETENTION, default 7 days). */
  eventRetentionMs: number;
  /** How often the pruning job runs (FLOWGRAPH_EVENT_PRUNE_INTERVAL, default 1 hour). */
  eventPruneIntervalMs: number;
  /** Live events queued for one subscriber before its subscription ends (FLOWGRAPH_SUBSCRIPTION_BUFFER). */
  subscriptionBufferSize: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

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

/** A duration such as `7d`, `12h`, `30m`, `90s` or `500ms` (the `ms` package's format), or milliseconds. */
function duration(env: Env, name: string, fallback: string, minMs: number): number {
  const raw = env[name] || fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : (ms as (text: string) => number | undefined)(raw);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minMs || value > 2_147_483_647_000) {
    throw new ConfigError(`${name} must be a duration such as 7d, 12h, 30m or 90s (at least ${minMs} ms), got "${raw}"`);
  }
  return Math.round(value);
}

export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const defaultPageSize = integer(env, 'FLOWGRAPH_DEFAULT_PAGE_SIZE', 50, 1, 10_000);
  const maxPageSize = integer(env, 'FLOWGRAPH_MAX_PAGE_SIZE', 500, 1, 10_000);
  if (defaultPageSize > maxPageSize) {
    throw new ConfigError('FLOWGRAPH_DEFAULT_PAGE_SIZE cannot exceed FLOWGRAPH_MAX_PAGE_SIZE');
  }
  return {
    databaseUrl,
    dataDir: env.FLOWGRAPH_DATA_DIR || path.resolve('.flowgraph/pglite'),
    port: integer(env, 'PORT', 4000, 0, 65_535),
    host: env.HOST || '0.0.0.0',
    seed: flag(env, 'FLOWGRAPH_SEED', true),
    debugSql: flag(env, 'FLOWGRAPH_DEBUG_SQL', false),
    defaultPageSize,
    maxPageSize,
    shutdownGraceMs: integer(env, 'FLOWGRAPH_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    imports: {
      ...DEFAULT_IMPORT_SETTINGS,
      maxFileBytes: integer(env, 'FLOWGRAPH_MAX_UPLOAD_BYTES', DEFAULT_IMPORT_SETTINGS.maxFileBytes, 1, Number.MAX_SAFE_INTEGER),
      maxRowBytes: integer(env, 'FLOWGRAPH_MAX_ROW_BYTES', DEFAULT_IMPORT_SETTINGS.maxRowBytes, 1_024, 256 * 1024 * 1024),
      batchRows: integer(env, 'FLOWGRAPH_IMPORT_BATCH_ROWS', DEFAULT_IMPORT_SETTINGS.batchRows, 1, 50_000),
      transactionTimeoutMs: integer(
        env,
        'FLOWGRAPH_IMPORT_TIMEOUT_MS',
        DEFAULT_IMPORT_SETTINGS.transactionTimeoutMs,
        1_000,
        24 * 60 * 60 * 1000,
      ),
      progressEveryRows: integer(env, 'FLOWGRAPH_IMPORT_PROGRESS_ROWS', 100_000, 0, Number.MAX_SAFE_INTEGER),
    },
    eventRetentionMs: duration(env, 'FLOWGRAPH_EVENT_RETENTION', '7d', 1_000),
    // setTimeout cannot wait longer than 2^31-1 ms.
    eventPruneIntervalMs: Math.min(duration(env, 'FLOWGRAPH_EVENT_PRUNE_INTERVAL', '1h', 100), 2_147_483_647),
    subscriptionBufferSize: integer(env, 'FLOWGRAPH_SUBSCRIPTION_BUFFER', 1_000, 1, 1_000_000),
  };
}
