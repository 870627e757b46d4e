// The agent's work directory: what survives an agent restart.
//
//   <work-dir>/
//     meta/agent.json                                   { agentId }            (atomic replace)
//     meta/frameworks/<fw>/framework.json               FrameworkInfo          (atomic replace)
//     meta/frameworks/<fw>/tasks/<task>/journal.jsonl   the task's journal     (append-only)
//     frameworks/<fw>/tasks/<task>/                     the sandbox (cwd, stdout, stderr)
//
// The journal is one JSON record a line: `task` (the TaskInfo, written before the launch),
// `container` (the executor's checkpoint, to re-adopt it), `update` (a status update, fsync'd
// before it is sent) and `ack` (its acknowledgement). Replaying it gives the task, its container
// and its unacknowledged updates. Records queued while a write is in flight go out together in
// the next write, with one fsync for all (a group commit). Meta lives apart from the sandbox so
// a task cannot tamper with the agent's bookkeeping. Ids become path components through `safeName`.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { FrameworkInfo__Output, TaskInfo__Output, TaskStatus } from '../proto/index.js';
import type { ContainerCheckpoint, ExecutorKind } from './executor.js';

export type JournalRecord =
  | { task: { frameworkId: string; info: TaskInfo__Output; launchedAtMs: number } }
  | { container: { kind: ExecutorKind; checkpoint: ContainerCheckpoint } }
  | { update: TaskStatus }
  | { ack: string };

export interface RecoveredTask {
  frameworkId: string;
  taskId: string;
  info: TaskInfo__Output;
  launchedAtMs: number;
  container: { kind: ExecutorKind; checkpoint: ContainerCheckpoint } | undefined;
  /** Every update, oldest first. */
  updates: TaskStatus[];
  /** Updates not yet acknowledged, oldest first. */
  unacknowledged: TaskStatus[];
}

export interface RecoveredState {
  agentId: string | undefined;
  frameworks: Map<string, FrameworkInfo__Output>;
  tasks: RecoveredTask[];
}

/** Ids as path components: kept when already safe, else percent-encoded (injective, no '/', no '..'). */
export function safeName(id: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) return id;
  return '%' + [...Buffer.from(id, 'utf8')].map((b) => (/[A-Za-z0-9_-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`)).join('');
}

export class Checkpoint {
  readonly metaDir: string;
  readonly #journals = new Map<string, TaskJournal>();
  readonly #frameworkText = new Map<string, string>();

  constructor(readonly workDir: string) {
    this.workDir = path.resolve(workDir);
    this.metaDir = path.join(this.workDir, 'meta');
  }

  sandboxDir(frameworkId: string, taskId: string): string {
    return path.join(this.workDir, 'frameworks', safeName(frameworkId), 'tasks', safeName(taskId));
  }

  taskMetaDir(frameworkId: string, taskId: string): string {
    return path.join(this.metaDir, 'frameworks', safeName(frameworkId), 'tasks', safeName(taskId));
  }

  async readAgentId(): Promise<string | undefined> {
    const data = await readJson(path.join(this.metaDir, 'agent.json'));
    return typeof data?.['agentId'] === 'string' && data['agentId'] !== '' ? data['agentId'] : undefined;
  }

  async writeAgentId(agentId: string): Promise<void> {
    await writeFileAtomic(path.join(this.metaDir, 'agent.json'), JSON.stringify({ agentId }));
  }

  /** After a shutdown by the master: the next start registers as a new agent. */
  async clearAgentId(): Promise<void> {
    await fs.rm(path.join(this.metaDir, 'agent.json'), { force: true });
  }

  async writeFramework(info: FrameworkInfo__Output): Promise<void> {
    const text = serialize(info);
    if (this.#frameworkText.get(info.id) === text) return;
    this.#frameworkText.set(info.id, text);
    await writeFileAtomic(path.join(this.metaDir, 'frameworks', safeName(info.id), 'framework.json'), text);
  }

  /** A fresh sandbox and journal for a task (an old sandbox with the same id is cleared). */
  async createTask(frameworkId: string, taskId: string): Promise<{ sandbox: string; journal: TaskJournal }> {
    const sandbox = this.sandboxDir(frameworkId, taskId);
    const meta = this.taskMetaDir(frameworkId, taskId);
    const [created] = await Promise.all([fs.mkdir(sandbox, { recursive: true }), fs.mkdir(meta, { recursive: true })]);
    if (created === undefined) {
      // The id was used before (its bookkeeping is gone, its sandbox kept): start from empty.
      await fs.rm(sandbox, { recursive: true, force: true });
      await fs.mkdir(sandbox, { recursive: true });
    }
    const journal = new TaskJournal(path.join(meta, 'journal.jsonl'));
    this.#journals.set(meta, journal);
    return { sandbox, journal };
  }

  journal(frameworkId: string, taskId: string): TaskJournal {
    const meta = this.taskMetaDir(frameworkId, taskId);
    let journal = this.#journals.get(meta);
    if (!journal) this.#journals.set(meta, (journal = new TaskJournal(path.join(meta, 'journal.jsonl'))));
    return journal;
  }

  /** Forget a task's bookkeeping (its terminal update was acknowledged); the sandbox stays. */
  async removeTask(frameworkId: string, taskId: string): Promise<void> {
    const meta = this.taskMetaDir(frameworkId, taskId);
    await this.#journals.get(meta)?.close();
    this.#journals.delete(meta);
    await fs.rm(meta, { recursive: true, force: true });
  }

  /** Finish pending writes and release every journal's file. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#journals.values()].map((j) => j.close()));
  }

  /** Everything a restarted agent needs: its id, its frameworks and its tasks' journals. */
  async recover(): Promise<RecoveredState> {
    await fs.mkdir(this.metaDir, { recursive: true });
    const frameworks = new Map<string, FrameworkInfo__Output>();
    const tasks: RecoveredTask[] = [];
    const root = path.join(this.metaDir, 'frameworks');
    for (const fwDir of await listDirs(root)) {
      const info = await readJson(path.join(root, fwDir, 'framework.json'));
      if (info && typeof info['id'] === 'string') frameworks.set(info['id'], info as unknown as FrameworkInfo__Output);
      for (const taskDir of await listDirs(path.join(root, fwDir, 'tasks'))) {
        const task = await replayJournal(path.join(root, fwDir, 'tasks', taskDir, 'journal.jsonl'));
        if (task) tasks.push(task);
        else await fs.rm(path.join(root, fwDir, 'tasks', taskDir), { recursive: true, force: true });
      }
    }
    return { agentId: await this.readAgentId(), frameworks, tasks };
  }
}

const JOURNAL_IDLE_CLOSE_MS = 2000;

/** One task's append-only journal with group commit. */
export class TaskJournal {
  #queue: { line: string; durable: boolean; done: () => void; fail: (err: unknown) => void }[] = [];
  #flushing: Promise<void> | undefined;
  #soon = false;
  #handle: fs.FileHandle | undefined;
  #closeTimer: NodeJS.Timeout | undefined;

  constructor(readonly file: string) {}

  /** Resolves once written, and fsync'd when `durable` (an update must be durable before it is sent). */
  append(record: JournalRecord, durable: boolean): Promise<void> {
    return new Promise((done, fail) => {
      this.#queue.push({ line: serialize(record) + '\n', durable, done, fail });
      // A durable record is written at once, taking everything queued with it; a record that need
      // not be durable waits a turn of the event loop for one to share its write and fsync.
      if (durable) this.#flushing ??= this.#flush();
      else this.#flushSoon();
    });
  }

  #flushSoon(): void {
    if (this.#soon) return;
    this.#soon = true;
    setImmediate(() => {
      this.#soon = false;
      if (this.#queue.length > 0) this.#flushing ??= this.#flush();
    });
  }

  /** Resolves when nothing is queued or being written. */
  async idle(): Promise<void> {
    while (this.#flushing || this.#queue.length > 0) {
      this.#flushing ??= this.#flush();
      await this.#flushing;
    }
  }

  /** Wait for pending writes and release the file. */
  async close(): Promise<void> {
    await this.idle();
    clearTimeout(this.#closeTimer);
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  async #flush(): Promise<void> {
    clearTimeout(this.#closeTimer);
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      try {
        // The file stays open while records keep coming (a launch writes several in a few ms).
        this.#handle ??= await fs.open(this.file, 'a');
        await this.#handle.write(batch.map((b) => b.line).join(''));
        if (batch.some((b) => b.durable)) await this.#handle.datasync();
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.fail(err);
      }
    }
    this.#flushing = undefined;
    // Idle journals give their descriptor back, so thousands of quiet tasks hold no files open.
    this.#closeTimer = setTimeout(() => void this.#closeIfIdle(), JOURNAL_IDLE_CLOSE_MS);
    this.#closeTimer.unref();
  }

  async #closeIfIdle(): Promise<void> {
    if (this.#flushing || this.#queue.length > 0 || !this.#handle) return;
    const handle = this.#handle;
    this.#handle = undefined;
    await handle.close().catch(() => undefined);
  }
}

async function replayJournal(file: string): Promise<RecoveredTask | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let task: RecoveredTask | undefined;
  const acked = new Set<string>();
  // The last line may be torn by a crash mid-write: it was never fsync'd, so nothing was sent on it.
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let record: JournalRecord;
    try {
      record = deserialize(line) as JournalRecord;
    } catch {
      continue;
    }
    if ('task' in record) {
      const { frameworkId, info, launchedAtMs } = record.task;
      task = { frameworkId, taskId: info.taskId, info, launchedAtMs, container: undefined, updates: [], unacknowledged: [] };
    } else if (task && 'container' in record) task.container = record.container;
    else if (task && 'update' in record) task.updates.push(record.update);
    else if ('ack' in record) acked.add(record.ack);
  }
  if (task) task.unacknowledged = task.updates.filter((u) => !acked.has(u.uuid ?? ''));
  return task;
}

// ---- files ----

/** Replace `file` atomically: write a temp file, fsync it, rename it over, fsync the directory. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
  const dirHandle = await fs.open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return deserialize(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

// Bytes fields (TaskInfo.data, TaskStatus.data) survive the round trip as base64.
export function serialize(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return { $b64: Buffer.from((v as { data: number[] }).data).toString('base64') };
    }
    return v;
  });
}

export function deserialize(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v && typeof v === 'object' && typeof (v as { $b64?: unknown }).$b64 === 'string' && Object.keys(v).length === 1) {
      return Buffer.from((v as { $b64: string }).$b64, 'base64');
    }
    return v;
  });
}
