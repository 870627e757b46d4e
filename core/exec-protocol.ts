// The stream `agora exec` speaks after an HTTP/1.1 Upgrade (`Upgrade: agora-exec.v1`), CLI ↔
// master ↔ agent. The master passes the bytes through; the CLI and the agent frame them:
//
//   ┌──────┬──────────────────┬─────────────┐
//   │ type │ length (uint32BE) │ payload     │   type: one byte; length: the payload's, ≤ 1 MiB
//   └──────┴──────────────────┴─────────────┘
//
//   client → agent   STDIN (bytes)  STDIN_EOF (empty)  RESIZE (JSON {rows, cols})
//   agent → client   STDOUT (bytes) STDERR (bytes)     EXIT (JSON {exitCode, signal?})
//                    ERROR (JSON {code, message}): the session could not start or was ended
//                    (idle, the task ended); always followed by the end of the stream
//
// A frame of an unknown type, or longer than the bound, ends the stream (the reader throws).
import { InvalidArgumentError } from './errors.js';

export const EXEC_PROTOCOL = 'agora-exec.v1';

export const FRAME = Object.freeze({ STDIN: 1, STDOUT: 2, STDERR: 3, RESIZE: 4, STDIN_EOF: 5, EXIT: 6, ERROR: 7 } as const);
export type FrameType = (typeof FRAME)[keyof typeof FRAME];

export const MAX_FRAME_BYTES = 1024 * 1024;
const HEADER_BYTES = 5;
const KNOWN = new Set<number>(Object.values(FRAME));

export interface Frame {
  readonly type: FrameType;
  readonly payload: Buffer;
}

export interface ExitFrame {
  readonly exitCode: number;
  readonly signal?: string;
}

export interface ErrorFrame {
  readonly code: string;
  readonly message: string;
}

export interface TerminalSize {
  readonly rows: number;
  readonly cols: number;
}

export function encodeFrame(type: FrameType, payload: Buffer | string | object = Buffer.alloc(0)): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
  if (body.length > MAX_FRAME_BYTES) throw new RangeError(`an exec frame carries at most ${MAX_FRAME_BYTES} bytes, not ${body.length}`);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

/** Bytes of a stream in, whole frames out (a chunk may hold several frames, or part of one). */
export class FrameReader {
  #buffer: Buffer = Buffer.alloc(0);

  /** The frames completed by `chunk`; throws on a frame no peer of this protocol sends. */
  push(chunk: Buffer): Frame[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const frames: Frame[] = [];
    while (this.#buffer.length >= HEADER_BYTES) {
      const type = this.#buffer.readUInt8(0);
      const length = this.#buffer.readUInt32BE(1);
      if (!KNOWN.has(type)) throw new Error(`exec stream: unknown frame type ${type}`);
      if (length > MAX_FRAME_BYTES) throw new Error(`exec stream: a frame of ${length} bytes is over the ${MAX_FRAME_BYTES}-byte bound`);
      if (this.#buffer.length < HEADER_BYTES + length) break;
      frames.push({ type: type as FrameType, payload: this.#buffer.subarray(HEADER_BYTES, HEADER_BYTES + length) });
      this.#buffer = this.#buffer.subarray(HEADER_BYTES + length);
    }
    return frames;
  }
}

/** A RESIZE payload, or undefined when it is not one (ignored rather than trusted). */
export function parseSize(payload: Buffer): TerminalSize | undefined {
  try {
    const { rows, cols } = JSON.parse(payload.toString('utf8')) as Partial<TerminalSize>;
    return validSize(rows) && validSize(cols) ? { rows, cols } : undefined;
  } catch {
    return undefined;
  }
}

/** An EXIT payload, or undefined when it is not one (a peer's bad frame must not crash the reader). */
export function parseExit(payload: Buffer): ExitFrame | undefined {
  const v = parseJson(payload) as Partial<ExitFrame> | undefined;
  if (typeof v?.exitCode !== 'number' || !Number.isInteger(v.exitCode)) return undefined;
  return typeof v.signal === 'string' ? { exitCode: v.exitCode, signal: v.signal } : { exitCode: v.exitCode };
}

/** An ERROR payload, or undefined when it is not one. */
export function parseError(payload: Buffer): ErrorFrame | undefined {
  const v = parseJson(payload) as Partial<ErrorFrame> | undefined;
  return typeof v?.code === 'string' && typeof v.message === 'string' ? { code: v.code, message: v.message } : undefined;
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}

export function validSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 10_000;
}

/** What the exec request's query asks for (the agent checks it; the master passes it on). */
export interface ExecQuery {
  readonly command: readonly string[];
  readonly stdin: boolean;
  readonly tty: boolean;
  readonly size: TerminalSize | undefined;
  readonly term: string | undefined;
}

/** Query parameters of an exec request: `command` once per argv word, then the switches. */
export const EXEC_QUERY_PARAMS = ['command', 'stdin', 'tty', 'rows', 'cols', 'term'] as const;
const MAX_ARGS = 1024;
const MAX_COMMAND_BYTES = 64 * 1024;

export function execQueryString(q: ExecQuery): string {
  const params = new URLSearchParams();
  for (const word of q.command) params.append('command', word);
  if (q.stdin) params.set('stdin', '1');
  if (q.tty) params.set('tty', '1');
  if (q.size) {
    params.set('rows', String(q.size.rows));
    params.set('cols', String(q.size.cols));
  }
  if (q.term !== undefined) params.set('term', q.term);
  return params.toString();
}

/** The request a query makes; INVALID_ARGUMENT naming the parameter at fault. */
export function parseExecQuery(query: Record<string, unknown>): ExecQuery {
  const raw = query['command'];
  const command = raw === undefined ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)];
  if (command.length === 0 || command[0] === '') throw new InvalidArgumentError('command', 'give the command to run (command=PROGRAM&command=ARG…)');
  if (command.length > MAX_ARGS) throw new InvalidArgumentError('command', `at most ${MAX_ARGS} words, got ${command.length}`);
  if (command.reduce((n, w) => n + Buffer.byteLength(w), 0) > MAX_COMMAND_BYTES) throw new InvalidArgumentError('command', `at most ${MAX_COMMAND_BYTES} bytes`);
  if (command.some((w) => w.includes('\0'))) throw new InvalidArgumentError('command', 'a word holds a NUL byte');
  const tty = switchOf(query, 'tty');
  const rows = sizeOf(query, 'rows');
  const cols = sizeOf(query, 'cols');
  if ((rows === undefined) !== (cols === undefined)) throw new InvalidArgumentError(rows === undefined ? 'rows' : 'cols', 'rows and cols go together');
  const term = query['term'] === undefined ? undefined : String(query['term']);
  if (term !== undefined && !/^[A-Za-z0-9._+-]{1,64}$/.test(term)) throw new InvalidArgumentError('term', `'${term.slice(0, 64)}' is not a terminal type`);
  return { command, stdin: switchOf(query, 'stdin'), tty, size: rows !== undefined && cols !== undefined ? { rows, cols } : undefined, term };
}

function switchOf(query: Record<string, unknown>, name: string): boolean {
  const v = query[name];
  if (v === undefined || v === '0' || v === 'false') return false;
  if (v === '' || v === '1' || v === 'true') return true;
  throw new InvalidArgumentError(name, `expected 1 or 0, got '${String(v).slice(0, 32)}'`);
}

function sizeOf(query: Record<string, unknown>, name: string): number | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(String(v)) || !validSize(n)) throw new InvalidArgumentError(name, `expected a whole number from 1 to 10000, got '${String(v).slice(0, 32)}'`);
  return n;
}
