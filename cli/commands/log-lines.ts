// Lines of task output for `agora logs`: the last N lines of a buffer (--tail counts lines, as
// kubectl's does), and a writer that prefixes every line with `[TASK_ID] ` (kubectl --prefix) and
// holds a partial line back until it ends, so lines of tasks followed together never interleave.

/** Where the last `lines` lines of `data` begin (a final newline ends the last line, not a new one). */
export function lastLinesStart(data: Buffer, lines: number): number {
  if (lines <= 0) return data.length;
  let end = data.length;
  if (end > 0 && data[end - 1] === 0x0a) end -= 1;
  let seen = 0;
  for (let i = end - 1; i >= 0; i -= 1) {
    if (data[i] === 0x0a) {
      seen += 1;
      if (seen === lines) return i + 1;
    }
  }
  return 0;
}

/** Newlines in `data`, not counting a final one (how many lines precede the last). */
export function completeLines(data: Buffer): number {
  let n = 0;
  for (let i = 0; i < data.length - 1; i += 1) if (data[i] === 0x0a) n += 1;
  return n;
}

/** Writes `[prefix] line\n` for each whole line given; `end()` flushes a last line without its newline. */
export class LinePrefixer {
  #pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly prefix: string,
    private readonly out: (text: Buffer) => void,
  ) {}

  write(data: Buffer): void {
    const all = this.#pending.length === 0 ? data : Buffer.concat([this.#pending, data]);
    const last = all.lastIndexOf(0x0a);
    if (last === -1) {
      this.#pending = all;
      return;
    }
    this.#emit(all.subarray(0, last + 1));
    this.#pending = Buffer.from(all.subarray(last + 1));
  }

  end(): void {
    if (this.#pending.length === 0) return;
    this.#emit(Buffer.concat([this.#pending, Buffer.from('\n')]));
    this.#pending = Buffer.alloc(0);
  }

  #emit(lines: Buffer): void {
    const head = Buffer.from(`[${this.prefix}] `);
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < lines.length; i += 1) {
      if (lines[i] !== 0x0a) continue;
      parts.push(head, lines.subarray(start, i + 1));
      start = i + 1;
    }
    this.out(Buffer.concat(parts));
  }
}
