// The one wake-up channel of a flowgraph process: told when new flow events are committed, by anyone,
// through any instance. PostgreSQL: LISTEN on one dedicated connection (not from Prisma's pool: a pooled
// connection can be handed to a query, and LISTEN belongs to a session). PGlite: its in-process listen().
//
// A wake-up carries no data (see the trigger in migration 20261127000000_flow_event_delivery); the
// listener reads the rows itself, from the last sequence it saw. That is what makes a dropped connection
// harmless: after reconnecting, one more wake-up makes the listener catch up on whatever it missed.
import pg from 'pg';
import type { Database } from './database.ts';

export const FLOW_EVENTS_CHANNEL = 'flowgraph_flow_events';

/** Shown in pg_stat_activity, so operators (and the tests) can find the listening connection. */
export const LISTENER_APPLICATION_NAME = 'flowgraph-listener';

export interface WakeUpChannel {
  close(): Promise<void>;
}

export interface WakeUpHandlers {
  /** New events may be committed; also called once after every (re)connection, to catch up. */
  onWake(): void;
  /** The connection dropped; the channel reconnects by itself. */
  onDisconnect?(error: unknown): void;
  /** The channel is listening again after a drop (onWake follows). */
  onReconnect?(): void;
}

export interface WakeUpOptions {
  /** First delay before reconnecting; doubles up to maxReconnectDelayMs while attempts fail. */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
}

export async function openWakeUpChannel(
  database: Database,
  handlers: WakeUpHandlers,
  options: WakeUpOptions = {},
): Promise<WakeUpChannel> {
  if (database.kind === 'pglite') {
    if (!database.pglite) throw new Error('a PGlite database without its instance');
    const unlisten = await database.pglite.listen(FLOW_EVENTS_CHANNEL, () => handlers.onWake());
    handlers.onWake();
    return { close: () => unlisten() };
  }
  if (!database.connectionString) throw new Error('a PostgreSQL database without its connection string');
  const channel = new PostgresWakeUpChannel(database.connectionString, handlers, options);
  await channel.connect();
  return channel;
}

class PostgresWakeUpChannel implements WakeUpChannel {
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private delayMs: number;

  constructor(
    private readonly connectionString: string,
    private readonly handlers: WakeUpHandlers,
    private readonly options: WakeUpOptions,
  ) {
    this.delayMs = options.reconnectDelayMs ?? 100;
  }

  /** Connects and LISTENs; throws when the first attempt fails (start-up should fail loudly). */
  async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString, application_name: LISTENER_APPLICATION_NAME });
    let lost = false;
    const onLost = (error: unknown) => {
      if (lost) return;
      lost = true;
      client.removeAllListeners('notification');
      void client.end().catch(() => {});
      if (this.closed) return;
      this.client = undefined;
      this.handlers.onDisconnect?.(error);
      this.scheduleReconnect();
    };
    // An 'error' without a listener would crash the process; a dropped connection is expected here.
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('connection ended')));
    client.on('notification', (message) => {
      if (message.channel === FLOW_EVENTS_CHANNEL) this.handlers.onWake();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${FLOW_EVENTS_CHANNEL}`);
    } catch (error) {
      lost = true;
      client.removeAllListeners();
      client.on('error', () => {});
      void client.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.delayMs = this.options.reconnectDelayMs ?? 100;
    // Events committed before LISTEN took effect woke nobody: read them now.
    this.handlers.onWake();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retry) return;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.options.maxReconnectDelayMs ?? 5_000);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect().then(
        () => {
          if (!this.closed) this.handlers.onReconnect?.();
        },
        (error: unknown) => {
          this.handlers.onDisconnect?.(error);
          this.scheduleReconnect();
        },
      );
    }, delay);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('notification');
      await client.end().catch(() => {});
    }
  }
}
