// What an exec session drives, whichever executor runs the task: a started command with its
// streams, a way to resize its terminal, its end, and a kill of everything it started.
import type { Readable, Writable } from 'node:stream';
import type { ExitFrame, TerminalSize } from '../core/exec-protocol.js';

export interface ExecRequest {
  /** argv; run as is (no shell added). */
  readonly command: readonly string[];
  /** Pass the client's stdin (-i). */
  readonly stdin: boolean;
  /** Give the command a pseudo-terminal (-t); stdout and stderr are then one stream. */
  readonly tty: boolean;
  /** The terminal's size at the start (with tty). */
  readonly size?: TerminalSize | undefined;
  /** The client's $TERM (with tty); default xterm. */
  readonly term?: string | undefined;
}

export interface ExecProcess {
  readonly stdin: Writable | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable | undefined;
  resize(size: TerminalSize): void;
  /** Resolves once, when the command has ended and its output is all read. Never rejects. */
  readonly exited: Promise<ExitFrame>;
  /** Kill the command and everything it started. */
  kill(): void;
}
