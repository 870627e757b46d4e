// Reading a whole multiplexed Docker log (agent/executors/docker-container.ts demuxLog): the
// catch-up after a container stops adds what the log follow missed, so it must split the frames
// exactly, a frame cut short included.
import { describe, expect, it } from 'vitest';
import { demuxLog } from '../../agent/executors/docker-container.js';

function frame(kind: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = kind;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('demuxLog', () => {
  it('splits stdout and stderr frames in order, a last line without a newline included', () => {
    const log = Buffer.concat([frame(1, '0\n'), frame(2, 'warn\n'), frame(1, 'root:')]);
    const { stdout, stderr } = demuxLog(log);
    expect(stdout.toString()).toBe('0\nroot:');
    expect(stderr.toString()).toBe('warn\n');
  });

  it('keeps the part of a frame that arrived and ignores a header cut short and stdin frames', () => {
    const cut = frame(1, 'abcdef').subarray(0, 8 + 3);
    const log = Buffer.concat([frame(0, 'in'), frame(2, 'e'), cut]);
    expect(demuxLog(log).stdout.toString()).toBe('abc');
    expect(demuxLog(Buffer.concat([frame(1, 'x'), Buffer.from([1, 0, 0])])).stdout.toString()).toBe('x');
    expect(demuxLog(Buffer.alloc(0))).toEqual({ stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) });
  });
});
