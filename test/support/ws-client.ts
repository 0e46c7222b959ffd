// A bare graphql-transport-ws client on the `ws` package, for tests that look at what the protocol
// library hides: close codes and reasons, raw frames, several operations at once on one socket.
import WebSocket from 'ws';

export interface Frame {
  type: string;
  id?: string;
  payload?: unknown;
}

export interface RawSocket {
  socket: WebSocket;
  /** Resolves true on connection_ack, false when the socket closes first. */
  acknowledged: Promise<boolean>;
  closed: Promise<{ code: number; reason: string }>;
  frames: Frame[];
  send(frame: Frame | string | Buffer): void;
  /** Subscribes and collects the frames of that operation until complete or error (or the socket closes). */
  operation(id: string, query: string, variables?: Record<string, unknown>): Promise<Frame[]>;
  close(): void;
}

export function openSocket(url: string, connectionParams?: unknown, { sendInit = true } = {}): RawSocket {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const frames: Frame[] = [];
  const waiters = new Map<string, { frames: Frame[]; done: (frames: Frame[]) => void }>();
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => {
      for (const waiter of waiters.values()) waiter.done(waiter.frames);
      resolve({ code, reason: reason.toString() });
    });
  });
  socket.on('error', () => {});
  const acknowledged = new Promise<boolean>((resolve) => {
    socket.on('message', (data) => {
      let frame: Frame;
      try {
        frame = JSON.parse(String(data)) as Frame;
      } catch {
        return;
      }
      frames.push(frame);
      if (frame.type === 'connection_ack') resolve(true);
      if (frame.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
      const waiter = frame.id ? waiters.get(frame.id) : undefined;
      if (waiter) {
        waiter.frames.push(frame);
        if (frame.type === 'complete' || frame.type === 'error') {
          waiters.delete(frame.id!);
          waiter.done(waiter.frames);
        }
      }
    });
    void closed.then(() => resolve(false));
  });
  socket.on('open', () => {
    if (sendInit) socket.send(JSON.stringify({ type: 'connection_init', payload: connectionParams }));
  });
  const send = (frame: Frame | string | Buffer) => {
    if (socket.readyState !== WebSocket.OPEN) return;
    socket.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  };
  return {
    socket,
    acknowledged,
    closed,
    frames,
    send,
    operation(id, query, variables) {
      return new Promise((resolve) => {
        waiters.set(id, { frames: [], done: resolve });
        send({ id, type: 'subscribe', payload: { query, variables } });
      });
    },
    close: () => socket.close(),
  };
}
