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
//
// Modes (tasks run as their own users, work-dir.ts says more):
//   <work-dir>/, frameworks/, <fw>/, tasks/   0711  a user passes through to its sandbox, lists nothing
//   frameworks/<fw>/tasks/<task>/             0700  owned by the task's user
//   meta/ and below                           0700 directories, 0600 files: the agent's alone
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { FrameworkInfo__Output, TaskInfo__Output, TaskStatus } from '../proto/index.js';
import type { ContainerCheckpoint, ExecutorKind } from './executor.js';
import type { UserIdentity } from './user-db.js';
import { PRIVATE_DIR, PRIVATE_FILE, prepareWorkDir, SANDBOX_MODE, traversableDirs } from './work-dir.js';

export type JournalRecord =
  | { task: { frameworkId: string; info: TaskInfo__Output; launchedAtMs: number; user?: UserIdentity; refusal?: string } }
  | { container: { kind: ExecutorKind; checkpoint: ContainerCheckpoint } }
  | { update: TaskStatus }
  | { ack: string };

export interface RecoveredTask {
  frameworkId: string;
  taskId: string;
  info: TaskInfo__Output;
  launchedAtMs: number;
  /** Who the task was launched as; neither this nor `refusal`: an agent before task users (root). */
  user: UserIdentity | undefined;
  /** Why the task was refused its user. */
  refusal: string | undefined;
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
  /** Frameworks whose sandbox parents exist with their modes. */
  readonly #tasksDirs = new Map<string, Promise<void>>();

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

  /**
   * A fresh sandbox (0700, owned by `owner`: the task's user; root when absent) and journal for a
   * task. An old sandbox with the same id is cleared.
   */
  async createTask(frameworkId: string, taskId: string, owner?: Pick<UserIdentity, 'uid' | 'gid'>): Promise<{ sandbox: string; journal: TaskJournal }> {
    const sandbox = this.sandboxDir(frameworkId, taskId);
    const meta = this.taskMetaDir(frameworkId, taskId);
    await Promise.all([this.#createSandbox(frameworkId, sandbox, owner), fs.mkdir(meta, { recursive: true, mode: PRIVATE_DIR })]);
    const journal = new TaskJournal(path.join(meta, 'journal.jsonl'));
    this.#journals.set(meta, journal);
    return { sandbox, journal };
  }

  async #createSandbox(frameworkId: string, sandbox: string, owner: Pick<UserIdentity, 'uid' | 'gid'> | undefined): Promise<void> {
    await this.#tasksDir(frameworkId);
    try {
      await fs.mkdir(sandbox, { mode: SANDBOX_MODE });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // The id was used before (its bookkeeping is gone, its sandbox kept): start from empty.
      await fs.rm(sandbox, { recursive: true, force: true });
      await fs.mkdir(sandbox, { mode: SANDBOX_MODE });
    }
    if (owner && (owner.uid !== 0 || owner.gid !== 0)) await fs.chown(sandbox, owner.uid, owner.gid);
  }

  /** frameworks/<fw>/tasks and its parents, 0711 (mkdir's mode is cut by the umask: chmod). */
  #tasksDir(frameworkId: string): Promise<void> {
    let ready = this.#tasksDirs.get(frameworkId);
    if (!ready) {
      const tasks = path.join(this.workDir, 'frameworks', safeName(frameworkId), 'tasks');
      ready = traversableDirs(this.workDir, tasks);
      ready.catch(() => this.#tasksDirs.delete(frameworkId));
      this.#tasksDirs.set(frameworkId, ready);
    }
    return ready;
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

  /**
   * Everything a restarted agent needs: its id, its frameworks and its tasks' journals. First the
   * work dir is made ready (work-dir.ts: created, modes set, reachable by task users, else this
   * throws) and files of agents before private modes are made private.
   */
  async recover(): Promise<RecoveredState> {
    await prepareWorkDir(this.workDir, this.metaDir);
    const frameworks = new Map<string, FrameworkInfo__Output>();
    const tasks: RecoveredTask[] = [];
    const root = path.join(this.metaDir, 'frameworks');
    await makePrivate(path.join(this.metaDir, 'agent.json'));
    for (const fwDir of await listDirs(root)) {
      await makePrivate(path.join(root, fwDir, 'framework.json'));
      const info = await readJson(path.join(root, fwDir, 'framework.json'));
      if (info && typeof info['id'] === 'string') frameworks.set(info['id'], info as unknown as FrameworkInfo__Output);
      for (const taskDir of await listDirs(path.join(root, fwDir, 'tasks'))) {
        const journal = path.join(root, fwDir, 'tasks', taskDir, 'journal.jsonl');
        await makePrivate(journal);
        const task = await replayJournal(journal);
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
        this.#handle ??= await fs.open(this.file, 'a', PRIVATE_FILE);
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
      const { frameworkId, info, launchedAtMs, user, refusal } = record.task;
      task = { frameworkId, taskId: info.taskId, info, launchedAtMs, user, refusal, container: undefined, updates: [], unacknowledged: [] };
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
  await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIR });
  const tmp = `${file}.tmp-${process.pid}`;
  const handle = await fs.open(tmp, 'w', PRIVATE_FILE);
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

/** 0600, for files an agent wrote before meta/ was private; a missing file is fine. */
async function makePrivate(file: string): Promise<void> {
  await fs.chmod(file, PRIVATE_FILE).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
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
