// Server-Sent Events as the CLI reads them (`get --watch`): frames of `event:` and JSON `data:`,
// from the Jobs API's /api/v1/watch or the master's /api/v1/events. Comments (heartbeats) and
// `id:` lines are skipped.
import { UnavailableError } from '../core/errors.js';
import type { Response } from '../frameworks/api/http-client.js';

export interface SseFrame {
  readonly event: string;
  readonly data: unknown;
}

export async function* sseFrames(res: Response): AsyncGenerator<SseFrame> {
  if (!res.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let cut = buffer.indexOf('\n\n'); cut !== -1; cut = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: ?(.*)$/m.exec(block)?.[1];
      if (event === undefined) continue;
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(l.startsWith('data: ') ? 6 : 5))
        .join('\n');
      yield { event, data: data === '' ? undefined : parseData(event, data) };
    }
  }
}

/** A frame's JSON; a frame that is not JSON ends the watch with a message, not a stack trace. */
function parseData(event: string, data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    throw new UnavailableError(`the server sent a '${event}' event whose data is not JSON: ${data.slice(0, 80)}`);
  }
}
