// Turning how a task ended into ExitInfo. The wrapper records the shell's `$?`, where a status
// above 128 means "terminated by signal (status - 128)", as sh reports it.
import { constants } from 'node:os';
import type { ExitInfo } from '../executor.js';

export const REASON_MEMORY = 'REASON_CONTAINER_LIMITATION_MEMORY';
export const UNKNOWN_EXIT_MESSAGE = 'exit status unknown: the task ended while the agent was down';

const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, n]) => [n, name]));

export function signalName(n: number): string | undefined {
  return SIGNAL_NAMES.get(n);
}

export function signalNumber(name: string): number | undefined {
  return (constants.signals as Record<string, number | undefined>)[name];
}

/** ExitInfo from a shell status (0–255). */
export function exitFromStatus(status: number, killed: boolean): ExitInfo {
  const signal = status > 128 ? signalName(status - 128) : undefined;
  const base = killed ? { killed: true } : {};
  if (signal) return { ...base, signal, message: `Command terminated by signal ${signal}` };
  return { ...base, exitCode: status, message: `Command exited with status ${status}` };
}

/** ExitInfo for a wrapper that was itself signalled (it then could not record a status). */
export function exitFromSignal(signal: string, killed: boolean): ExitInfo {
  return { ...(killed ? { killed: true } : {}), signal, message: `Command terminated by signal ${signal}` };
}

/** Re-word an ExitInfo as a memory-limit kill. */
export function memoryLimitExit(exit: ExitInfo, memMb: number): ExitInfo {
  return { ...exit, reason: REASON_MEMORY, message: `memory limit of ${formatMb(memMb)} MB exceeded` };
}

function formatMb(mb: number): string {
  return Number.isInteger(mb) ? String(mb) : mb.toFixed(1);
}

/** Parse the contents of an exit_status file; undefined when it is not a status. */
export function parseStatusFile(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{1,3}$/.test(trimmed)) return undefined;
  const n = Number(trimmed);
  return n <= 255 ? n : undefined;
}
