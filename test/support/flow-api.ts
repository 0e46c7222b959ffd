// For tests of clients against real server processes: changes made through the public API (so they work
// on PGlite, where only the server process can open the database), the log as Query.flowEvents pages it,
// and a TCP proxy between client and server that can refuse connections or stop passing the server's
// bytes on (a client that reads slowly, for the server's per-subscription buffer).
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Viewer } from '../../src/context.ts';
import { openDatabase } from '../../src/db/database.ts';
import { applyMigrations } from '../../src/db/migrator.ts';
import { viewerHeaders } from './graphql.ts';
import { dropDatabase, recreateDatabase, workerDatabaseUrl } from './postgres-databases.ts';

export async function graphql<TData>(baseUrl: string, viewer: Viewer, query: string, variables: Record<string, unknown> = {}): Promise<TData> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...viewerHeaders(viewer) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: TData; errors?: unknown[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

const STORE_IMPORT = `mutation ($input: StoreImportInput!) {
  storeImport(input: $input) { __typename ... on MasterFlow { flowId version } ... on Error { message } }
}`;

/** A master flow that alternates running ⇄ paused through the API, one status_changed event per step. */
export class ApiFlow {
  private paused = false;
  private constructor(
    readonly flowId: string,
    private current: number,
    private readonly viewer: Viewer,
  ) {}

  /** The flow's version after the last change (each change's status_changed event carries it). */
  get version(): number {
    return this.current;
  }

  /** Stores an import (a running discovery master flow); `rows` make its raw records (and events reading them) big. */
  static async create(baseUrl: string, viewer: Viewer, rows: Record<string, unknown>[] = [{ hostname: 'web-01' }]): Promise<ApiFlow> {
    const data = await graphql<{ storeImport: { __typename: string; flowId: string; version: number; message?: string } }>(baseUrl, viewer, STORE_IMPORT, {
      input: { rows, filename: 'inline.json', importType: 'servers' },
    });
    if (data.storeImport.__typename !== 'MasterFlow') throw new Error(`storeImport: ${JSON.stringify(data.storeImport)}`);
    return new ApiFlow(data.storeImport.flowId, data.storeImport.version, viewer);
  }

  /** Pauses or resumes the flow through the server at `baseUrl` (any instance). */
  async toggle(baseUrl: string): Promise<void> {
    const verb = this.paused ? 'resumeMasterFlow' : 'pauseMasterFlow';
    const data = await graphql<Record<string, { __typename: string; version?: number; message?: string }>>(
      baseUrl,
      this.viewer,
      `mutation ($flowId: UUID!, $version: Int!) { ${verb}(flowId: $flowId, version: $version) { __typename ... on MasterFlow { version } ... on Error { message } } }`,
      { flowId: this.flowId, version: this.current },
    );
    const result = data[verb]!;
    if (result.__typename !== 'MasterFlow') throw new Error(`${verb}: ${JSON.stringify(result)}`);
    this.current = result.version!;
    this.paused = !this.paused;
  }
}

/** The cursors of the log after `after` (Query.flowEvents, every page), for the filter. */
export async function logCursors(baseUrl: string, viewer: Viewer, after: string | null, filter: Record<string, unknown> = {}): Promise<string[]> {
  const cursors: string[] = [];
  for (let cursor = after; ; ) {
    const data = await graphql<{
      flowEvents: { __typename: string; edges?: { cursor: string }[]; pageInfo?: { hasNextPage: boolean; endCursor: string | null } };
    }>(
      baseUrl,
      viewer,
      `query ($after: String, $filter: FlowEventFilter) { flowEvents(after: $after, filter: $filter, first: 500) {
        __typename ... on FlowEventConnection { edges { cursor } pageInfo { hasNextPage endCursor } } } }`,
      { after: cursor, filter },
    );
    if (data.flowEvents.__typename !== 'FlowEventConnection') throw new Error(`flowEvents: ${JSON.stringify(data.flowEvents)}`);
    cursors.push(...data.flowEvents.edges!.map((edge) => edge.cursor));
    if (!data.flowEvents.pageInfo!.hasNextPage) return cursors;
    cursor = data.flowEvents.pageInfo!.endCursor;
  }
}

export interface ClientProxy {
  port: number;
  /** Drops every connection and stops listening: clients see resets, then ECONNREFUSED. */
  cut(): Promise<void>;
  /** Drops every connection and goes on listening: a client's next attempt gets through. */
  drop(): void;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  /** Stops passing the server's bytes on (and reading them): the server's writes block once buffers fill. */
  hold(): void;
  /** Passes them on again. */
  release(): void;
  close(): Promise<void>;
}

export async function startClientProxy(targetPort: number): Promise<ClientProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let held = false;
  const listen = (port: number) =>
    new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer((client) => {
        const upstream = net.connect(targetPort, '127.0.0.1');
        const pair = { client, upstream };
        pairs.add(pair);
        const drop = () => {
          pairs.delete(pair);
          client.destroy();
          upstream.destroy();
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream);
        if (held) upstream.pause();
        else upstream.pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  let server: net.Server | null = await listen(0);
  const port = (server.address() as AddressInfo).port;
  const drop = () => {
    for (const { client, upstream } of [...pairs]) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  const cut = async () => {
    const closing = server;
    server = null;
    drop();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  return {
    port,
    cut,
    drop,
    async restore() {
      if (!server) server = await listen(port);
    },
    hold() {
      held = true;
      for (const { client, upstream } of pairs) {
        upstream.unpipe(client);
        upstream.pause();
      }
    },
    release() {
      held = false;
      for (const { client, upstream } of pairs) upstream.pipe(client);
    },
    close: cut,
  };
}

/** Where a test's server processes keep their data: a PGlite directory, or a PostgreSQL database of its own. */
export interface ServerBackend {
  env: Record<string, string>;
  /** Several instances may share it (PostgreSQL only). */
  shared: boolean;
  cleanup(): Promise<void>;
}

export async function serverBackend(name: string): Promise<ServerBackend> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), `flowgraph-${name}-`));
    return { env: { FLOWGRAPH_DATA_DIR: dataDir, DATABASE_URL: '' }, shared: false, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
  }
  const url = workerDatabaseUrl(base, `${name}_${process.env.VITEST_POOL_ID ?? '1'}`);
  await recreateDatabase(url);
  const database = await openDatabase({ databaseUrl: url, poolSize: 1 });
  try {
    await applyMigrations(database.sql);
  } finally {
    await database.close();
  }
  return { env: { DATABASE_URL: url }, shared: true, cleanup: () => dropDatabase(url) };
}
