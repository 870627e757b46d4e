import { Response } from 'undici';
import { describe, expect, it } from 'vitest';
import { AgoraError } from '../../core/errors.js';
import { sseFrames } from '../../cli/sse.js';

async function frames(text: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const f of sseFrames(new Response(text) as never)) out.push(f);
  return out;
}

describe('sseFrames (get --watch)', () => {
  it('reads event and JSON data, skipping comments', async () => {
    expect(await frames(': ping\n\nevent: ADDED\ndata: {"a":1}\n\n')).toEqual([{ event: 'ADDED', data: { a: 1 } }]);
  });

  it('ends with an AgoraError, not a SyntaxError, on data that is not JSON', async () => {
    await expect(frames('event: ADDED\ndata: {oops\n\n')).rejects.toBeInstanceOf(AgoraError);
  });
});
