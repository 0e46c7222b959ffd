// The dashboard's one live subscription: every flow event of the tenant, resumed from the last cursor it
// delivered, so a dropped connection or a restarted server loses nothing.
import type { Api } from './api';
import { DashboardEventCursorDocument, DashboardEventsDocument, type DashboardEventsSubscription } from './generated/graphql';

export type LiveEvent = Extract<DashboardEventsSubscription['flowEvents'], { __typename: 'FlowEvent' }>;

export class LiveEvents {
  private lastCursor: string | null = null;
  /** graphql-ws re-sends a subscription with its first variables after a reconnect; skip what was seen. */
  private readonly seen = new Set<string>();
  private readonly listeners = new Set<(event: LiveEvent) => void>();
  private readonly resetListeners = new Set<() => void>();

  constructor(private readonly api: Api) {}

  onEvent(listener: (event: LiveEvent) => void): void {
    this.listeners.add(listener);
  }

  /** Called when events were lost for good (the cursor expired): views reload from scratch. */
  onReset(listener: () => void): void {
    this.resetListeners.add(listener);
  }

  async start(): Promise<void> {
    this.lastCursor = (await this.api.request(DashboardEventCursorDocument, {})).flowEventCursor;
    this.api.subscribe(
      DashboardEventsDocument,
      () => ({ after: this.lastCursor }),
      (data) => this.receive(data.flowEvents),
      (error) => console.warn('flow events:', error),
    );
  }

  private receive(item: DashboardEventsSubscription['flowEvents']): void {
    switch (item.__typename) {
      case 'FlowEvent': {
        if (this.seen.has(item.cursor)) return;
        this.seen.add(item.cursor);
        if (this.seen.size > 5_000) this.seen.delete(this.seen.values().next().value!);
        this.lastCursor = item.cursor;
        for (const listener of this.listeners) listener(item);
        return;
      }
      case 'FlowEventsOverflowError':
        // The server ends the subscription; the restart resumes after the last event it delivered.
        this.lastCursor = item.lastCursor;
        return;
      case 'FlowEventCursorExpiredError':
        this.lastCursor = null;
        for (const listener of this.resetListeners) listener();
        void this.api.request(DashboardEventCursorDocument, {}).then((data) => (this.lastCursor = data.flowEventCursor));
        return;
    }
  }
}
