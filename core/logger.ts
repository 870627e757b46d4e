// Logging: pino, JSON lines; one pretty line per entry on a terminal. Constant messages, data in
// fields; child loggers bound to component / agentId / frameworkId / taskId.
import { pino, destination as pinoDestination, type Logger, type LevelWithSilent, type DestinationStream, type LoggerOptions as PinoOptions } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** How lines look: `pretty` (one coloured line each), `json` (JSON lines), `auto` (pretty on a terminal). */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  name?: string;
  level?: LevelWithSilent;
  /** Force pretty or JSON; default: pretty when stderr is a TTY. */
  pretty?: boolean;
  /** The same as a flag's value; `pretty` wins when both are given. */
  format?: LogFormat;
  /** Where lines go (tests capture them); default stderr. */
  destination?: DestinationStream;
  /**
   * Messages this process logs at debug although its code logs them at info: what a process
   * says as a matter of course that its user need not read (`agora up`'s start).
   */
  debugMessages?: ReadonlySet<string>;
}

export const LOG_LEVELS: readonly LevelWithSilent[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

const INFO = 30;

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const base: PinoOptions = { level, ...(options.name ? { name: options.name } : {}), ...(options.debugMessages ? { hooks: { logMethod: demote(options.debugMessages) } } : {}) };
  if (options.destination) return pino(base, options.destination);
  const usePretty = options.pretty ?? (options.format === undefined || options.format === 'auto' ? Boolean(process.stderr.isTTY) : options.format === 'pretty');
  if (usePretty) {
    return pino(base, pretty({ destination: 2, sync: true, colorize: true, singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return pino(base, pinoDestination({ dest: 2, sync: false }));
}

type LogMethod = NonNullable<NonNullable<PinoOptions['hooks']>['logMethod']>;

/** A pino hook that sends the given info messages to debug instead. */
function demote(messages: ReadonlySet<string>): LogMethod {
  return function (this: Logger, args, method, level) {
    const message = typeof args[0] === 'string' ? args[0] : args[1];
    if (level === INFO && typeof message === 'string' && messages.has(message)) {
      (this.debug as (...a: unknown[]) => void)(...args);
      return;
    }
    method.apply(this, args);
  };
}

/** A logger that drops everything (pass it to the SDK to hear nothing; its default logs errors). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
