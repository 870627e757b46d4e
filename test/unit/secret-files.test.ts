// The agent's writing of a task's files from secrets and configs into its sandbox: modes, contents,
// and every way out of the sandbox refused, naming the path and never the content.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSecretFiles } from '../../agent/secret-files.js';

const file = (p: string, text: string, mode = 0): { path: string; data: Buffer; mode: number } => ({ path: p, data: Buffer.from(text), mode });

function sandbox(): string {
  return mkdtempSync(path.join(tmpdir(), 'agora-sandbox-'));
}

describe('writeSecretFiles', () => {
  it('writes each file with its mode (0400 by default), making its directories 0700', async () => {
    const dir = sandbox();
    await writeSecretFiles(dir, [file('conf/app.ini', '[app]', 0o440), file('secret/db/password', 'hunter2')], undefined);
    expect(readFileSync(path.join(dir, 'conf/app.ini'), 'utf8')).toBe('[app]');
    expect(statSync(path.join(dir, 'conf/app.ini')).mode & 0o777).toBe(0o440);
    expect(statSync(path.join(dir, 'secret/db/password')).mode & 0o777).toBe(0o400);
    expect(statSync(path.join(dir, 'secret/db')).mode & 0o777).toBe(0o700);
  });

  it('refuses paths that leave the sandbox, and links in the way, naming the path only', async () => {
    const dir = sandbox();
    const outside = sandbox();
    for (const p of ['../escape', '/etc/x', 'a/../../escape', '', '.']) {
      await expect(writeSecretFiles(dir, [file(p, 'hunter2')], undefined)).rejects.toThrow(/leaves the sandbox/);
    }
    symlinkSync(outside, path.join(dir, 'link'));
    const err = await writeSecretFiles(dir, [file('link/x', 'hunter2')], undefined).catch((e: Error) => e);
    expect(err?.message).toBe('cannot write link/x: link is not a directory');
    symlinkSync(path.join(outside, 'target'), path.join(dir, 'dangling'));
    await expect(writeSecretFiles(dir, [file('dangling', 'hunter2')], undefined)).rejects.toThrow(/^cannot write dangling: EEXIST$/);
    expect(existsSync(path.join(outside, 'x'))).toBe(false);
    expect(existsSync(path.join(outside, 'target'))).toBe(false);
    mkdirSync(path.join(dir, 'taken'));
    const taken = await writeSecretFiles(dir, [file('taken', 'hunter2')], undefined).catch((e: Error) => e);
    expect(taken?.message).toBe('cannot write taken: EEXIST');
  });
});
