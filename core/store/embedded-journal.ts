// Durable storage for the embedded backend: a snapshot plus an append-only journal in a data
// directory.
//
//   <dir>/LOCK           pid of the process that owns the directory (stale locks are taken over)
//   <dir>/snapshot.json  { format, seq, nodes: NodeRecord[] } — replaced atomically (tmp, fsync, rename, fsync dir)
//   <dir>/journal.log    one line per committed batch: "<sha256[0..16]> <json {seq, put, del}>\n"
//
// A batch's promise resolves only after its line is fdatasync'ed; concurrent batches share one
// fsync (group commit). Recovery loads the snapshot, replays journal lines with seq > snapshot.seq,
// and cuts the journal at the first torn or corrupt line (a crash mid-append). When the journal
// outgrows `compactBytes` it is folded into a new snapshot and truncated. Lines are idempotent
// (whole-node records), so a snapshot that already holds some of them is harmless.

import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { StoreError } from './store-errors.js';
import type { NodeRecord } from './embedded-tree.js';

export interface JournalEntry {
  seq: number;
  put: NodeRecord[];
  del: string[];
}

export interface Recovered {
  snapshot: NodeRecord[];
  entries: JournalEntry[];
  lastSeq: number;
  /** Bytes of torn or corrupt tail that were cut off the journal. */
  truncatedBytes: number;
}

interface Pending {
  line: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const SNAPSHOT = 'snapshot.json';
const JOURNAL = 'journal.log';
const LOCK = 'LOCK';
export const DEFAULT_COMPACT_BYTES = 8 * 1024 * 1024;

export class Journal {
  private pending: Pending[] = [];
  private flushing = false;
  private size: number;
  private seq: number;
  private failed: unknown;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private fh: fs.FileHandle,
    size: number,
    lastSeq: number,
    private readonly compactBytes: number,
    private readonly snapshotOf: () => NodeRecord[],
  ) {
    this.size = size;
    this.seq = lastSeq;
  }

  /** Lock the directory, recover what it holds, and open the journal for appending. */
  static async open(
    dir: string,
    snapshotOf: () => NodeRecord[],
    compactBytes = DEFAULT_COMPACT_BYTES,
  ): Promise<{ journal: Journal; recovered: Recovered }> {
    await fs.mkdir(dir, { recursive: true });
    await acquireLock(dir);
    try {
      const recovered = await recover(dir);
      const fh = await fs.open(path.join(dir, JOURNAL), 'a');
      const { size } = await fh.stat();
      await fsyncDir(dir);
      return { journal: new Journal(dir, fh, size, recovered.lastSeq, compactBytes, snapshotOf), recovered };
    } catch (err) {
      await releaseLock(dir);
      throw err;
    }
  }

  /** Append one batch; resolves once it is on disk. */
  append(put: NodeRecord[], del: string[]): Promise<void> {
    if (this.failed) return Promise.reject(storageFailed(this.failed));
    if (this.closed) return Promise.reject(new StoreError('AGORA_UNAVAILABLE', 'embedded store is closed'));
    this.seq += 1;
    const json = JSON.stringify({ seq: this.seq, put, del } satisfies JournalEntry);
    const line = `${checksum(json)} ${json}\n`;
    return new Promise((resolve, reject) => {
      this.pending.push({ line, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        const buf = Buffer.from(batch.map((p) => p.line).join(''), 'utf8');
        await this.fh.write(buf);
        await this.fh.datasync();
        this.size += buf.length;
        for (const p of batch) p.resolve();
        if (this.size > this.compactBytes) await this.compact();
      } catch (err) {
        // The disk state no longer matches memory: refuse every later write.
        this.failed = err;
        for (const p of [...batch, ...this.pending]) p.reject(storageFailed(err));
        this.pending = [];
      }
    }
    this.flushing = false;
  }

  /** Fold the journal into a new snapshot (of the tree as it is now) and truncate it. */
  private async compact(): Promise<void> {
    const seq = this.seq;
    await writeAtomically(this.dir, SNAPSHOT, JSON.stringify({ format: 1, seq, nodes: this.snapshotOf() }));
    await this.fh.truncate(0);
    await this.fh.sync();
    this.size = 0;
  }

  /** Wait for pending writes, then release the directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing || this.pending.length > 0) await new Promise((r) => setImmediate(r));
    await this.fh.close();
    await releaseLock(this.dir);
  }
}

async function recover(dir: string): Promise<Recovered> {
  let snapshot: NodeRecord[] = [];
  let snapSeq = 0;
  const snapText = await readIfExists(path.join(dir, SNAPSHOT));
  if (snapText !== undefined) {
    try {
      const parsed = JSON.parse(snapText) as { format: number; seq: number; nodes: NodeRecord[] };
      snapshot = parsed.nodes;
      snapSeq = parsed.seq;
    } catch (err) {
      throw new StoreError('AGORA_INTERNAL', 'snapshot is corrupt', path.join(dir, SNAPSHOT), {}, err);
    }
  }
  const journalPath = path.join(dir, JOURNAL);
  const bytes = (await readBytesIfExists(journalPath)) ?? Buffer.alloc(0);
  const entries: JournalEntry[] = [];
  let good = 0; // bytes of valid, complete lines
  let prev = -Infinity;
  for (;;) {
    const end = bytes.indexOf(10, good);
    if (end === -1) break;
    const entry = parseLine(bytes.toString('utf8', good, end));
    if (!entry || entry.seq <= prev) break;
    prev = entry.seq;
    if (entry.seq > snapSeq) entries.push(entry);
    good = end + 1;
  }
  const lastSeq = Math.max(snapSeq, prev);
  const total = bytes.length;
  if (good < total) {
    const fh = await fs.open(journalPath, 'r+');
    try {
      await fh.truncate(good);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
  return { snapshot, entries, lastSeq, truncatedBytes: total - good };
}

function parseLine(line: string): JournalEntry | undefined {
  const space = line.indexOf(' ');
  if (space !== 16) return undefined;
  const json = line.slice(space + 1);
  if (checksum(json) !== line.slice(0, space)) return undefined;
  try {
    const entry = JSON.parse(json) as JournalEntry;
    return typeof entry.seq === 'number' && Array.isArray(entry.put) && Array.isArray(entry.del) ? entry : undefined;
  } catch {
    return undefined;
  }
}

function checksum(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

async function readBytesIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** tmp file + fsync + rename + fsync(dir): the file is either the old one or the new one. */
export async function writeAtomically(dir: string, name: string, content: string): Promise<void> {
  const tmp = path.join(dir, `${name}.tmp-${process.pid}`);
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(content, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, path.join(dir, name));
  await fsyncDir(dir);
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, fsConstants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function acquireLock(dir: string): Promise<void> {
  const lock = path.join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await fs.open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.sync();
      await fh.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number((await readIfExists(lock))?.trim());
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
      throw new StoreError('AGORA_UNAVAILABLE', `data directory is in use by process ${owner}`, dir, { pid: owner });
    }
    await fs.rm(lock, { force: true }); // stale: its process is gone
  }
  throw new StoreError('AGORA_UNAVAILABLE', 'could not lock the data directory', dir);
}

async function releaseLock(dir: string): Promise<void> {
  await fs.rm(path.join(dir, LOCK), { force: true });
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function storageFailed(cause: unknown): StoreError {
  return new StoreError('AGORA_UNAVAILABLE', 'embedded store could not write to disk', undefined, {}, cause);
}
