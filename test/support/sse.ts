// Reads a GraphQL over SSE response (Yoga's distinct-connections mode) event by event.
export interface SseEvent {
  event: string;
  data: unknown;
  at: number;
}

export async function readSse(response: Response, onEvent?: (event: SseEvent) => void): Promise<SseEvent[]> {
  return readSseBody(response.body as unknown as AsyncIterable<Uint8Array>, onEvent);
}

/** The same, from any byte stream (a node:http response, for a client that controls its own reading). */
export async function readSseBody(body: AsyncIterable<Uint8Array>, onEvent?: (event: SseEvent) => void): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let boundary: number;
    while ((boundary = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trim());
      }
      if (data.length === 0 && event === 'message') continue;
      const parsed = { event, data: data.length > 0 ? JSON.parse(data.join('\n') || 'null') : null, at: Date.now() };
      events.push(parsed);
      onEvent?.(parsed);
    }
  }
  return events;
}
