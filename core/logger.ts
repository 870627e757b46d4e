// Logging: pino, JSON lines; pretty on a terminal. Constant messages, data in fields; child
// loggers bound to component / agentId / frameworkId / taskId.
import { pino, destination as pinoDestination, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  name?: string;
  level?: LevelWithSilent;
  /** Force pretty or JSON; default: pretty when stderr is a TTY. */
  pretty?: boolean;
  /** Where lines go (tests capture them); default stderr. */
  destination?: DestinationStream;
}

export const LOG_LEVELS: readonly LevelWithSilent[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const base = { level, ...(options.name ? { name: options.name } : {}) };
  if (options.destination) return pino(base, options.destination);
  const usePretty = options.pretty ?? Boolean(process.stderr.isTTY);
  if (usePretty) {
    return pino(base, pretty({ destination: 2, sync: true, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return pino(base, pinoDestination({ dest: 2, sync: false }));
}

/** A logger that drops everything (pass it to the SDK to hear nothing; its default logs errors). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
