// The environment is validated at start-up: every setting has a default, every bad value is refused
// with a message naming the variable, and the README's configuration table lists every variable
// src/config.ts reads, with the same default.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_LIMITS, loadConfig } from '../src/config.ts';
import { DEFAULT_IMPORT_SETTINGS } from '../src/domain/import-settings.ts';
import { TEST_AUTH_ENV } from './support/auth.ts';

const JWT = { ...TEST_AUTH_ENV };

describe('loadConfig', () => {
  it('runs the embedded database in development mode by default', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBeUndefined();
    expect(config.auth.mode).toBe('dev');
    expect(config.limits).toEqual(DEFAULT_LIMITS);
    expect(config).toMatchObject({ port: 4000, host: '127.0.0.1', seed: true, debugSql: false, shutdownGraceMs: 10_000, logLevel: 'info', metrics: true });
  });

  it('listens on this machine only in development mode, unless HOST says otherwise', () => {
    expect(loadConfig({ FLOWGRAPH_AUTH: 'dev' }).host).toBe('127.0.0.1');
    expect(loadConfig({ FLOWGRAPH_AUTH: 'dev', HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({ DATABASE_URL: 'postgres://db/flowgraph', ...JWT }).host).toBe('0.0.0.0');
    expect(loadConfig({ DATABASE_URL: 'postgres://db/flowgraph', ...JWT, FLOWGRAPH_AUTH: 'dev' }).host).toBe('127.0.0.1');
  });

  it('allows no other origin by default, and only exact origins when listed', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ FLOWGRAPH_CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' }).corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
    for (const bad of ['*', 'https://app.example.com/', 'https://app.example.com/path', 'app.example.com', 'ftp://files.example.com']) {
      expect(() => loadConfig({ FLOWGRAPH_CORS_ORIGINS: bad })).toThrow(/FLOWGRAPH_CORS_ORIGINS must list origins/);
    }
  });

  it('needs a JWT configuration with a database URL, and in production', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/flowgraph' })).toThrow(/FLOWGRAPH_JWT_SECRET.*FLOWGRAPH_JWKS_URL/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(loadConfig({ DATABASE_URL: 'postgres://db/flowgraph', ...JWT }).auth).toMatchObject({ mode: 'jwt', issuer: JWT.FLOWGRAPH_JWT_ISSUER });
  });

  it('refuses development mode in production, whatever else is set', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ...JWT, FLOWGRAPH_AUTH: 'dev' })).toThrow(/FLOWGRAPH_AUTH=dev is refused when NODE_ENV=production/);
  });

  it('checks the JWT settings', () => {
    const base = { FLOWGRAPH_AUTH: 'jwt', FLOWGRAPH_JWT_ISSUER: 'i', FLOWGRAPH_JWT_AUDIENCE: 'a' };
    expect(() => loadConfig({ ...base, FLOWGRAPH_JWT_SECRET: 'short' })).toThrow(/at least 32 bytes/);
    expect(() => loadConfig({ ...base, FLOWGRAPH_JWT_SECRET: 'x'.repeat(32), FLOWGRAPH_JWKS_URL: 'https://idp/jwks' })).toThrow(/not both/);
    expect(() => loadConfig({ ...base, FLOWGRAPH_JWKS_URL: 'ftp://idp/jwks' })).toThrow(/FLOWGRAPH_JWKS_URL must be an http/);
    expect(() => loadConfig({ FLOWGRAPH_AUTH: 'jwt', FLOWGRAPH_JWT_SECRET: 'x'.repeat(32) })).toThrow(/ISSUER and FLOWGRAPH_JWT_AUDIENCE are required/);
    expect(() => loadConfig({ FLOWGRAPH_AUTH: 'oauth' })).toThrow(/FLOWGRAPH_AUTH must be one of jwt, dev/);
    expect(loadConfig({ ...base, FLOWGRAPH_JWKS_URL: 'https://idp.example/jwks' }).auth.jwksUrl).toBe('https://idp.example/jwks');
  });

  it('refuses a bad value of every numeric setting, naming it', () => {
    const numeric = [
      'PORT',
      'FLOWGRAPH_SHUTDOWN_GRACE_MS',
      'FLOWGRAPH_MAX_PAGE_SIZE',
      'FLOWGRAPH_MAX_DEPTH',
      'FLOWGRAPH_MAX_ALIASES',
      'FLOWGRAPH_MAX_DIRECTIVES',
      'FLOWGRAPH_MAX_TOKENS',
      'FLOWGRAPH_MAX_COST',
      'FLOWGRAPH_MAX_BODY_BYTES',
      'FLOWGRAPH_MAX_UPLOAD_BYTES',
      'FLOWGRAPH_MAX_ROW_BYTES',
      'FLOWGRAPH_IMPORT_BATCH_ROWS',
      'FLOWGRAPH_IMPORT_TIMEOUT_MS',
      'FLOWGRAPH_IMPORT_PROGRESS_ROWS',
      'FLOWGRAPH_SUBSCRIPTION_BUFFER',
      'FLOWGRAPH_MAX_BATCH',
      'FLOWGRAPH_REQUEST_TIMEOUT_MS',
      'FLOWGRAPH_STATEMENT_TIMEOUT_MS',
      'FLOWGRAPH_DB_CONNECT_TIMEOUT_MS',
      'FLOWGRAPH_READY_TIMEOUT_MS',
      'FLOWGRAPH_HTTP_RECEIVE_TIMEOUT_MS',
      'FLOWGRAPH_WS_MAX_PAYLOAD_BYTES',
      'FLOWGRAPH_WS_INIT_TIMEOUT_MS',
      'FLOWGRAPH_WS_MAX_SUBSCRIPTIONS',
      'FLOWGRAPH_JWT_CLOCK_TOLERANCE_S',
    ];
    for (const name of numeric) {
      for (const bad of ['abc', '-1', '1.5', '1e400']) {
        expect(() => loadConfig({ [name]: bad }), `${name}=${bad}`).toThrow(new RegExp(`^${name} must be an integer`));
      }
    }
    for (const name of ['FLOWGRAPH_SEED', 'FLOWGRAPH_DEBUG_SQL', 'FLOWGRAPH_INTROSPECTION', 'FLOWGRAPH_GRAPHIQL', 'FLOWGRAPH_METRICS']) {
      expect(() => loadConfig({ [name]: 'maybe' })).toThrow(new RegExp(`^${name} must be 1 or 0`));
    }
    expect(() => loadConfig({ FLOWGRAPH_LOG_LEVEL: 'loud' })).toThrow(/FLOWGRAPH_LOG_LEVEL must be one of/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL must be a postgres/);
  });

  it('keeps related limits consistent', () => {
    expect(() => loadConfig({ FLOWGRAPH_MAX_PAGE_SIZE: '20' })).toThrow(/FLOWGRAPH_MAX_PAGE_SIZE cannot be below the default page size \(50\)/);
    expect(loadConfig({ FLOWGRAPH_MAX_PAGE_SIZE: '50' }).limits.maxPageSize).toBe(50);
    expect(loadConfig({ FLOWGRAPH_MAX_UPLOAD_BYTES: '1000000' }).limits.maxBodyBytes).toBe(1_000_000 + 1_048_576);
    for (const name of ['FLOWGRAPH_EVENT_RETENTION', 'FLOWGRAPH_EVENT_PRUNE_INTERVAL']) {
      expect(() => loadConfig({ [name]: 'soon' })).toThrow(new RegExp(`^${name} must be a duration`));
    }
    expect(loadConfig({ FLOWGRAPH_MAX_PAGE_SIZE: '1000', FLOWGRAPH_MAX_BATCH: '5' }).limits).toMatchObject({ maxPageSize: 1000, maxBatch: 5 });
  });
});

describe('the README configuration table', () => {
  const source = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const variables = [...new Set([...source.matchAll(/['.]((?:FLOWGRAPH_|DATABASE_URL|PORT|HOST|NODE_ENV)[A-Z_]*)/g)].map((match) => match[1]!))];

  it('lists every environment variable src/config.ts reads', () => {
    expect(variables.length).toBeGreaterThan(30);
    const rows = readme.split('\n').filter((line) => line.startsWith('| `'));
    const documented = rows.map((line) => /^\| `([A-Z_]+)`/.exec(line)?.[1]);
    expect(variables.filter((name) => !documented.includes(name))).toEqual([]);
  });

  it('gives the same defaults as the code', () => {
    const row = (name: string) => readme.split('\n').find((line) => line.startsWith(`| \`${name}\``)) ?? '';
    const limits = DEFAULT_LIMITS;
    const expected: Record<string, number> = {
      FLOWGRAPH_MAX_DEPTH: limits.maxDepth,
      FLOWGRAPH_MAX_ALIASES: limits.maxAliases,
      FLOWGRAPH_MAX_DIRECTIVES: limits.maxDirectives,
      FLOWGRAPH_MAX_TOKENS: limits.maxTokens,
      FLOWGRAPH_MAX_COST: limits.maxCost,
      FLOWGRAPH_MAX_PAGE_SIZE: limits.maxPageSize,
      FLOWGRAPH_MAX_BODY_BYTES: limits.maxBodyBytes,
      FLOWGRAPH_MAX_UPLOAD_BYTES: DEFAULT_IMPORT_SETTINGS.maxFileBytes,
      FLOWGRAPH_MAX_ROW_BYTES: DEFAULT_IMPORT_SETTINGS.maxRowBytes,
      FLOWGRAPH_IMPORT_BATCH_ROWS: DEFAULT_IMPORT_SETTINGS.batchRows,
      FLOWGRAPH_IMPORT_TIMEOUT_MS: DEFAULT_IMPORT_SETTINGS.transactionTimeoutMs,
      FLOWGRAPH_IMPORT_PROGRESS_ROWS: 100_000,
      FLOWGRAPH_SUBSCRIPTION_BUFFER: 1_000,
      FLOWGRAPH_MAX_BATCH: limits.maxBatch,
      FLOWGRAPH_REQUEST_TIMEOUT_MS: limits.requestTimeoutMs,
      FLOWGRAPH_STATEMENT_TIMEOUT_MS: limits.statementTimeoutMs,
      FLOWGRAPH_DB_CONNECT_TIMEOUT_MS: limits.dbConnectTimeoutMs,
      FLOWGRAPH_READY_TIMEOUT_MS: limits.readyTimeoutMs,
      FLOWGRAPH_HTTP_RECEIVE_TIMEOUT_MS: limits.httpReceiveTimeoutMs,
      FLOWGRAPH_WS_MAX_PAYLOAD_BYTES: limits.wsMaxPayloadBytes,
      FLOWGRAPH_WS_INIT_TIMEOUT_MS: limits.wsInitTimeoutMs,
      FLOWGRAPH_WS_MAX_SUBSCRIPTIONS: limits.wsMaxSubscriptions,
      PORT: 4000,
      FLOWGRAPH_SHUTDOWN_GRACE_MS: 10_000,
      FLOWGRAPH_JWT_CLOCK_TOLERANCE_S: 5,
    };
    for (const [name, value] of Object.entries(expected)) {
      const cells = row(name).split('|').map((cell) => cell.trim());
      expect({ name, default: cells[2]?.replaceAll(/[`,_ ]/g, '') }).toEqual({ name, default: String(value) });
    }
  });
});
