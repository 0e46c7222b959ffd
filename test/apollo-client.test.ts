// Apollo Client 4, as the README configures it, against a real server process: with the generated
// possibleTypes (src/client/possible-types.ts) its cache keeps the fields of a typed error selected through
// `... on Error { message }`; without them it drops them (the reason the file exists).
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { buildSchema, isAbstractType } from 'graphql';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { possibleTypes } from '../src/client/possible-types.ts';
import { authHeaders } from './support/auth.ts';
import { newTenant } from './support/factories.ts';
import { startServer, type ServerProcess } from './support/server-process.ts';

const STORE = gql`
  mutation Store($input: StoreImportInput!) {
    storeImport(input: $input) {
      __typename
      ... on MasterFlow { id flowId version flowStatus }
      ... on Error { message }
    }
  }
`;

const PAUSE = gql`
  mutation Pause($flowId: UUID!, $version: Int!) {
    pauseMasterFlow(flowId: $flowId, version: $version) {
      __typename
      ... on MasterFlow { id flowStatus version }
      ... on Error { message }
      ... on StaleFlow { currentVersion }
    }
  }
`;

type PauseResult = { pauseMasterFlow: { __typename: string; message?: string; flowStatus?: string; version?: number; currentVersion?: number } };

describe('Apollo Client against a server process', () => {
  let server: ServerProcess;
  const viewer = newTenant('apollo-user');
  const client = (withPossibleTypes: boolean) =>
    new ApolloClient({
      link: new HttpLink({ uri: `${server.url}/graphql`, headers: authHeaders(viewer) }),
      cache: new InMemoryCache(withPossibleTypes ? { possibleTypes } : {}),
    });

  beforeAll(async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-apollo-'));
    server = await startServer({ FLOWGRAPH_DATA_DIR: dataDir, DATABASE_URL: '' });
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
  });

  it('covers every interface and union of schema.graphql, member for member', () => {
    const schema = buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));
    const expected = Object.fromEntries(
      Object.values(schema.getTypeMap())
        .filter(isAbstractType)
        .filter((type) => !type.name.startsWith('__'))
        .map((type) => [type.name, schema.getPossibleTypes(type).map((member) => member.name).sort()]),
    );
    expect(Object.fromEntries(Object.entries(possibleTypes).map(([name, members]) => [name, [...members].sort()]))).toEqual(expected);
  });

  it("sees a typed error's message through `... on Error` with possibleTypes, and not without", async () => {
    const apollo = client(true);
    const stored = await apollo.mutate<{ storeImport: { __typename: string; flowId: string; version: number } }>({
      mutation: STORE,
      variables: { input: { rows: [{ hostname: 'web-01' }], filename: 'servers.json', importType: 'servers' } },
    });
    const flow = stored.data!.storeImport;
    expect(flow.__typename).toBe('MasterFlow');

    const paused = await apollo.mutate<PauseResult>({ mutation: PAUSE, variables: { flowId: flow.flowId, version: flow.version } });
    expect(paused.data!.pauseMasterFlow).toMatchObject({ __typename: 'MasterFlow', flowStatus: 'PAUSED', version: flow.version + 1 });

    // The version the client started from is stale now.
    const stale = await apollo.mutate<PauseResult>({ mutation: PAUSE, variables: { flowId: flow.flowId, version: flow.version } });
    expect(stale.data!.pauseMasterFlow).toEqual({
      __typename: 'StaleFlow',
      message: expect.stringMatching(/\S/),
      currentVersion: flow.version + 1,
    });

    // The same request through a cache that does not know StaleFlow implements Error loses the message.
    const without = await client(false).mutate<PauseResult>({ mutation: PAUSE, variables: { flowId: flow.flowId, version: flow.version } });
    expect(without.data!.pauseMasterFlow.__typename).toBe('StaleFlow');
    expect(without.data!.pauseMasterFlow.message).toBeUndefined();
  });
});
