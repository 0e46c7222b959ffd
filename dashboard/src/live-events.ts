// The dashboard's one live subscription: every flow event of the tenant, through flowgraph/client's
// resumeFlowEvents (src/client/flow-event-resume.ts), the helper the README gives every client: it resubscribes
// from the last cursor delivered (also on graphql-ws' own silent retries), skips a cursor it has seen, resumes
// after an overflow, and on an expired cursor lets the views reload before it goes on.
import { resumeFlowEvents, type FlowEventResume } from '../../src/client/flow-event-resume';
import type { Api } from './api';
import { DashboardEventCursorDocument, DashboardEventsDocument, type DashboardEventsSubscription } from './generated/graphql';

export type LiveEvent = Extract<DashboardEventsSubscription['flowEvents'], { __typename: 'FlowEvent' }>;

export class LiveEvents {
  private readonly listeners = new Set<(event: LiveEvent) => void>();
  private readonly resetListeners = new Set<() => void>();
  private resume: FlowEventResume | undefined;

  constructor(private readonly api: Api) {}

  onEvent(listener: (event: LiveEvent) => void): void {
    this.listeners.add(listener);
  }

  /** Called when events were lost for good (the cursor expired): views reload from scratch. */
  onReset(listener: () => void): void {
    this.resetListeners.add(listener);
  }

  async start(): Promise<void> {
    const after = (await this.api.request(DashboardEventCursorDocument, {})).flowEventCursor;
    this.resume = resumeFlowEvents<LiveEvent>(this.api.subscribingClient(), {
      query: DashboardEventsDocument.toString(),
      after,
      onEvent: (event) => {
        for (const listener of this.listeners) listener(event);
      },
      onCursorExpired: async () => {
        // The cursor to go on from is read before the views reload, so nothing between the two is missed.
        const cursor = (await this.api.request(DashboardEventCursorDocument, {})).flowEventCursor;
        for (const listener of this.resetListeners) listener();
        return cursor;
      },
    });
    this.resume.done.catch((error: unknown) => console.warn('flow events:', error));
  }

  stop(): void {
    this.resume?.stop();
  }
}
