// The tenant isolation probe: walks a schema's root fields (queries, mutations, subscriptions), calls
// each as tenant A with tenant B's ids in every id-taking position, and with ids that exist nowhere,
// over HTTP and graphql-ws (and SSE for subscriptions). It reports every response that shows any of
// B's data, and every foreign id that answers differently from a missing one. Whether B's rows
// changed is the caller's to check (it knows the database).
import { randomUUID } from 'node:crypto';
import type { GraphQLSchema } from 'graphql';
import { isUuid } from '../../src/domain/uuid.ts';
import { normalize, operationFor, rootFields, takesIds, type GeneratedOperation, type IdSlot, type OperationType } from './schema-walker.ts';
import { overHttp, overWebSocket, subscribeOverSse, subscribeOverWebSocket, type TransportResult } from './transports.ts';
import { openSocket, type RawSocket } from './ws-client.ts';

export interface TenantIds {
  /** Credentials (HTTP headers and graphql-ws connectionParams). */
  headers: Record<string, string>;
  /** Raw uuids of the tenant's rows, by what they are (`data_imports.id`, …). */
  rawIds: Map<string, string>;
  /** Global ids of the tenant's objects, by type. */
  globalIds: Map<string, string>;
  /** Strings only this tenant's data contains: ids, names, raw data. */
  markers: string[];
}

export interface IsolationProbeOptions {
  schema: GraphQLSchema;
  httpUrl: string;
  wsUrl: string;
  attacker: TenantIds;
  victim: TenantIds;
  /** Changes made in the victim's tenant while subscriptions listen (by the victim itself). */
  driveVictim?: () => Promise<void>;
  subscriptionWindowMs?: number;
  depth?: number;
  /** Which operation types to probe (default: all three). */
  operationTypes?: OperationType[];
}

export interface IsolationReport {
  violations: string[];
  /** Requests sent, by `operationType/transport/kind` (foreign, missing, own). */
  counts: Record<string, number>;
  /** Root query fields taking ids, and whether one of the attacker's own ids found data through it. */
  ownHits: Map<string, boolean>;
  /** `Type.field` selected by some probe. */
  covered: Set<string>;
  /** Root fields probed, as `operationType.field`. */
  fields: string[];
}

function decodeGlobalId(value: string): { typename: string; id: string } | null {
  try {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    if (separator < 1 || Buffer.from(decoded).toString('base64') !== value) return null;
    return { typename: decoded.slice(0, separator), id: decoded.slice(separator + 1) };
  } catch {
    return null;
  }
}

/** An id of the same shape that matches nothing. */
export function missingLike(value: string): string {
  const global = decodeGlobalId(value);
  if (global) return Buffer.from(`${global.typename}:${randomUUID()}`).toString('base64');
  return randomUUID();
}

function candidates(tenant: TenantIds, slot: IdSlot): string[] {
  const raw = [...tenant.rawIds.values()];
  const global = [...tenant.globalIds.values()];
  if (slot.scalar === 'UUID') return raw;
  return [...global, ...raw];
}

/** The values a response may legitimately echo back for an id it was given. */
function echoes(value: string): string[] {
  const global = decodeGlobalId(value);
  return global ? [value, global.id] : [value];
}

const TIMESTAMP = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g;
const UUID_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

function loosely(text: string): string {
  return text.replace(TIMESTAMP, '<time>').replace(UUID_TEXT, '<uuid>').replace(/"sqlStatements":\d+/g, '"sqlStatements":<n>');
}

export async function probeIsolation(options: IsolationProbeOptions): Promise<IsolationReport> {
  const { schema, attacker, victim } = options;
  const report: IsolationReport = { violations: [], counts: {}, ownHits: new Map(), covered: new Set(), fields: [] };
  const count = (key: string) => (report.counts[key] = (report.counts[key] ?? 0) + 1);
  const depth = options.depth ?? 6;
  const windowMs = options.subscriptionWindowMs ?? 1_500;
  const victimMarkers = [...new Set(victim.markers)].filter((marker) => marker.length >= 8);

  const leaks = (text: string, allowed: string[]): string[] =>
    victimMarkers.filter((marker) => !allowed.includes(marker) && text.includes(marker));

  const attackerSocket: RawSocket = openSocket(options.wsUrl, attacker.headers);
  if (!(await attackerSocket.acknowledged)) throw new Error('the attacker could not open a graphql-ws socket');

  /** Builds the operation with `value` in slot `index` and fixed "missing" ids elsewhere. */
  const build = (operationType: OperationType, fieldName: string, index: number, value: string | null, others: string[]) => {
    const field = rootFields(schema, operationType).find((candidate) => candidate.name === fieldName)!;
    let call = 0;
    const operation = operationFor(schema, operationType, field, {
      depth,
      idFor: (slot) => {
        const position = call++;
        if (position === index && value !== null) return value;
        others[position] ??= slot.scalar === 'UUID' ? randomUUID() : missingLike(candidates(victim, slot)[0] ?? randomUUID());
        return others[position];
      },
    });
    for (const covered of operation.covered) report.covered.add(covered);
    return operation;
  };

  const send = async (operation: GeneratedOperation, transport: 'http' | 'ws', headers: Record<string, string>): Promise<TransportResult | null> => {
    if (transport === 'ws' && operation.hasUpload) return null; // graphql-ws carries no files
    return transport === 'http' ? overHttp(options.httpUrl, headers, operation) : overWebSocket(attackerSocket, operation);
  };

  for (const operationType of options.operationTypes ?? (['query', 'mutation', 'subscription'] as OperationType[])) {
    for (const field of rootFields(schema, operationType)) {
      const name = `${operationType}.${field.name}`;
      report.fields.push(name);

      if (operationType === 'subscription') {
        await probeSubscription(field.name);
        continue;
      }

      if (!takesIds(field)) {
        const operation = build(operationType, field.name, -1, null, []);
        for (const transport of ['http', 'ws'] as const) {
          const result = await send(operation, transport, attacker.headers);
          if (!result) continue;
          count(`${operationType}/${transport}/no-id`);
          for (const leaked of leaks(result.text, [])) report.violations.push(`${name} over ${transport} shows the victim's ${leaked}`);
        }
        continue;
      }

      const slots = build(operationType, field.name, -1, null, []).idSlots;
      for (const [index, slot] of slots.entries()) {
        for (const foreign of candidates(victim, slot)) {
          const others: string[] = [];
          const missing = missingLike(foreign);
          const foreignOperation = build(operationType, field.name, index, foreign, others);
          const missingOperation = build(operationType, field.name, index, missing, others);
          for (const transport of ['http', 'ws'] as const) {
            const foreignResult = await send(foreignOperation, transport, attacker.headers);
            const missingResult = await send(missingOperation, transport, attacker.headers);
            if (!foreignResult || !missingResult) continue;
            count(`${operationType}/${transport}/foreign`);
            count(`${operationType}/${transport}/missing`);
            const where = `${name} with the victim's ${slot.path} = ${foreign} over ${transport}`;
            for (const leaked of leaks(foreignResult.text, echoes(foreign))) report.violations.push(`${where} shows the victim's ${leaked}`);
            const replacements: [string, string][] = [...echoes(foreign), ...echoes(missing)].map((value) => [value, '<id>']);
            let foreignText = normalize(foreignResult.text, replacements);
            let missingText = normalize(missingResult.text, replacements);
            if (operationType === 'mutation') {
              // A mutation may create rows of the caller's own (new ids, timestamps) either way.
              foreignText = loosely(foreignText);
              missingText = loosely(missingText);
            }
            if (foreignResult.status !== missingResult.status || foreignText !== missingText) {
              report.violations.push(
                `${where} answers differently from a missing id:\n  foreign (${foreignResult.status}): ${foreignText.slice(0, 400)}\n  missing (${missingResult.status}): ${missingText.slice(0, 400)}`,
              );
            }
          }
        }
        // The probe is only worth something if the field finds the caller's own rows through the
        // same argument; mutations are left out (they would change the attacker's data).
        if (operationType === 'query') {
          for (const own of candidates(attacker, slot)) {
            const others: string[] = [];
            const ownResult = await overHttp(options.httpUrl, attacker.headers, build('query', field.name, index, own, others));
            const missingResult = await overHttp(options.httpUrl, attacker.headers, build('query', field.name, index, missingLike(own), others));
            count('query/http/own');
            if (found(ownResult.text, field.name) && !found(missingResult.text, field.name)) report.ownHits.set(name, true);
            if (!report.ownHits.has(name)) report.ownHits.set(name, false);
          }
        }
      }
    }
  }

  async function probeSubscription(fieldName: string) {
    const name = `subscription.${fieldName}`;
    const field = rootFields(schema, 'subscription').find((candidate) => candidate.name === fieldName)!;
    const listen = async (operation: GeneratedOperation, transport: 'ws' | 'sse', drive: boolean) => {
      const during = drive && options.driveVictim ? options.driveVictim : async () => {};
      if (transport === 'ws') {
        const socket = openSocket(options.wsUrl, attacker.headers);
        if (!(await socket.acknowledged)) throw new Error('the attacker could not open a graphql-ws socket');
        try {
          return await subscribeOverWebSocket(socket, operation, windowMs, during);
        } finally {
          socket.close();
        }
      }
      return subscribeOverSse(options.httpUrl, attacker.headers, operation, windowMs, during);
    };

    if (!takesIds(field)) {
      const operation = build('subscription', fieldName, -1, null, []);
      for (const transport of ['ws', 'sse'] as const) {
        const result = await listen(operation, transport, true);
        count(`subscription/${transport}/no-id`);
        for (const leaked of leaks(result.text, [])) report.violations.push(`${name} over ${transport} delivered the victim's ${leaked}`);
      }
      return;
    }
    const slots = build('subscription', fieldName, -1, null, []).idSlots;
    for (const [index, slot] of slots.entries()) {
      for (const foreign of candidates(victim, slot)) {
        const others: string[] = [];
        const missing = missingLike(foreign);
        const foreignOperation = build('subscription', fieldName, index, foreign, others);
        const missingOperation = build('subscription', fieldName, index, missing, others);
        for (const transport of ['ws', 'sse'] as const) {
          // Both listen at once, while the victim's data changes.
          const [foreignResult, missingResult] = await Promise.all([
            listen(foreignOperation, transport, true),
            listen(missingOperation, transport, false),
          ]);
          count(`subscription/${transport}/foreign`);
          count(`subscription/${transport}/missing`);
          const where = `${name} with the victim's ${slot.path} = ${foreign} over ${transport}`;
          for (const leaked of leaks(foreignResult.text, echoes(foreign))) report.violations.push(`${where} delivered the victim's ${leaked}`);
          const replacements: [string, string][] = [...echoes(foreign), ...echoes(missing)].map((value) => [value, '<id>']);
          const foreignText = normalize(foreignResult.text, replacements);
          const missingText = normalize(missingResult.text, replacements);
          if (foreignResult.status !== missingResult.status || foreignText !== missingText) {
            report.violations.push(
              `${where} answers differently from a missing id:\n  foreign: ${foreignText.slice(0, 400)}\n  missing: ${missingText.slice(0, 400)}`,
            );
          }
        }
      }
    }
  }

  attackerSocket.close();
  return report;
}

/** Whether a response carries data for the root field (an object, or a list with a non-null item). */
function found(text: string, fieldName: string): boolean {
  try {
    const value = (JSON.parse(text) as { data?: Record<string, unknown> | null }).data?.[fieldName];
    return Array.isArray(value) ? value.some((item) => item !== null) : value !== null && value !== undefined;
  } catch {
    return false;
  }
}

/** Every uuid and every `id` value (global id) in a response, for building a tenant's pools. */
export function idsIn(value: unknown, found: { uuids: Set<string>; globalIds: Map<string, string> }): void {
  if (Array.isArray(value)) {
    for (const item of value) idsIn(item, found);
    return;
  }
  if (!value || typeof value !== 'object') return;
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'id' && typeof inner === 'string') {
      const global = decodeGlobalId(inner);
      if (global) found.globalIds.set(global.typename, inner);
    } else if (typeof inner === 'string' && isUuid(inner)) {
      found.uuids.add(inner);
    }
    idsIn(inner, found);
  }
}
