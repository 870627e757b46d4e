// Options are parsed and validated once, at start-up, into a frozen object. A bad value fails at
// once with a message that names the flag. Each process declares a spec; the CLI feeds it the raw
// values commander collected (strings, or undefined when not given).
import { InvalidArgumentError } from './errors.js';
import { readCredentialsFile, type StoreCredentials } from './store/credentials.js';

export interface OptionSpec<T> {
  readonly flag: string;
  readonly description: string;
  /** Turn the raw value (a string from the command line, or a value from code) into T, or throw. */
  readonly parse: (raw: unknown, flag: string) => T;
  /** Used when the raw value is undefined; when absent the option is required. */
  readonly default?: T;
  /** The default as a user would type it, for help texts ('2s', not 2000); absent: not shown. */
  readonly shown?: string;
}

/** The default a help text shows: `shown`, else a string, number or boolean default as it is. */
export function shownDefault(option: OptionSpec<unknown>): string | undefined {
  if (option.shown !== undefined) return option.shown === '' ? undefined : option.shown;
  const def = option.default;
  return typeof def === 'string' || typeof def === 'number' || typeof def === 'boolean' ? String(def) : undefined;
}

export type OptionsOf<S extends Record<string, OptionSpec<unknown>>> = {
  readonly [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never;
};

/** Validate every option of `spec` from `raw` and return a frozen object. */
export function compileOptions<S extends Record<string, OptionSpec<unknown>>>(spec: S, raw: Record<string, unknown>): OptionsOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(spec)) {
    const value = raw[key];
    if (value === undefined) {
      if (!('default' in option)) throw new InvalidArgumentError(option.flag, 'is required');
      out[key] = option.default;
    } else {
      out[key] = option.parse(value, option.flag);
    }
  }
  return Object.freeze(out) as OptionsOf<S>;
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** A size: bytes (`65536`) or `64KiB`, `4MiB`, `1GiB`. */
export function parseBytes(raw: unknown, field = 'size'): number {
  const text = String(raw).trim();
  const match = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/.exec(text);
  if (!match) throw new InvalidArgumentError(field, `expected a size such as 65536, 64KiB or 4MiB, got '${text}'`);
  const bytes = Math.floor(Number(match[1]) * (BYTE_UNITS[match[2] ?? ''] as number));
  if (!Number.isSafeInteger(bytes)) throw new InvalidArgumentError(field, `is too large: '${text}'`);
  return bytes;
}

/**
 * Durations: `500ms`, `1s`, `1.5s`, `2m`, `1h`, `7d`, `1w`, or `0`. A bare number other than 0 is
 * rejected, because a reader cannot tell seconds from milliseconds. Returns milliseconds.
 */
export function parseDuration(raw: unknown, field = 'duration'): number {
  if (typeof raw === 'number') {
    if (Number.isFinite(raw) && raw >= 0) return raw;
    throw new InvalidArgumentError(field, `expected a non-negative duration in milliseconds, got ${raw}`);
  }
  const text = String(raw).trim();
  if (text === '0') return 0;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text);
  if (!match) throw new InvalidArgumentError(field, `expected a duration such as 500ms, 1s, 2m, 1h or 7d, got '${text}'`);
  return Math.round(Number(match[1]) * (UNITS_MS[match[2] as string] as number));
}

export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = UNITS_MS[unit] as number;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function fail(flag: string, message: string): never {
  throw new InvalidArgumentError(flag, message);
}

export const opt = {
  duration(flag: string, description: string, def?: string, bounds: { minMs?: number; maxMs?: number } = {}): OptionSpec<number> {
    const parse = (raw: unknown, f: string): number => {
      const ms = parseDuration(raw, f);
      if (bounds.minMs !== undefined && ms < bounds.minMs) fail(f, `must be at least ${formatDuration(bounds.minMs)}, got '${String(raw)}'`);
      if (bounds.maxMs !== undefined && ms > bounds.maxMs) fail(f, `must be at most ${formatDuration(bounds.maxMs)}, got '${String(raw)}'`);
      return ms;
    };
    return def === undefined ? { flag, description, parse } : { flag, description, parse, default: parse(def, flag), shown: def };
  },

  int(flag: string, description: string, def?: number, bounds: { min?: number; max?: number } = {}): OptionSpec<number> {
    const parse = (raw: unknown, f: string): number => {
      const text = String(raw).trim();
      if (!/^-?\d+$/.test(text)) fail(f, `expected an integer, got '${text}'`);
      const n = Number(text);
      if (bounds.min !== undefined && n < bounds.min) fail(f, `must be at least ${bounds.min}, got ${n}`);
      if (bounds.max !== undefined && n > bounds.max) fail(f, `must be at most ${bounds.max}, got ${n}`);
      return n;
    };
    return def === undefined ? { flag, description, parse } : { flag, description, parse, default: def };
  },

  /** A TCP port; 0 picks a free one. */
  port(flag: string, description: string, def?: number): OptionSpec<number> {
    return opt.int(flag, description, def, { min: 0, max: 65535 });
  },

  string(flag: string, description: string, def?: string, pattern?: { re: RegExp; hint: string }): OptionSpec<string> {
    const parse = (raw: unknown, f: string): string => {
      const text = String(raw);
      if (text.length === 0) fail(f, 'must not be empty');
      if (pattern && !pattern.re.test(text)) fail(f, `expected ${pattern.hint}, got '${text}'`);
      return text;
    };
    return def === undefined ? { flag, description, parse } : { flag, description, parse, default: def };
  },

  optionalString(flag: string, description: string): OptionSpec<string | undefined> {
    return { flag, description, parse: (raw, f) => opt.string(f, description).parse(raw, f), default: undefined };
  },

  oneOf<T extends string>(flag: string, description: string, values: readonly T[], def?: T): OptionSpec<T> {
    const parse = (raw: unknown, f: string): T => {
      const text = String(raw);
      if (!values.includes(text as T)) fail(f, `expected one of ${values.join(', ')}, got '${text}'`);
      return text as T;
    };
    return def === undefined ? { flag, description, parse } : { flag, description, parse, default: def };
  },

  bool(flag: string, description: string, def = false): OptionSpec<boolean> {
    const parse = (raw: unknown, f: string): boolean => {
      if (typeof raw === 'boolean') return raw;
      const text = String(raw).toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(text)) return true;
      if (['false', '0', 'no', 'off'].includes(text)) return false;
      return fail(f, `expected true or false, got '${String(raw)}'`);
    };
    return { flag, description, parse, default: def };
  },

  /** host:port, with the host defaulting to 127.0.0.1 when only a port is given. */
  address(flag: string, description: string, def?: string): OptionSpec<string> {
    const parse = (raw: unknown, f: string): string => parseAddress(String(raw), f);
    return def === undefined ? { flag, description, parse } : { flag, description, parse, default: parse(def, flag) };
  },

  /**
   * A file holding `user:password` (ZooKeeper digest credentials), read once at start-up; the
   * file must exist and not be empty. Keeps the password off the command line, where `ps` shows it.
   */
  credentialsFile(flag: string, description: string): OptionSpec<StoreCredentials | undefined> {
    return { flag, description, parse: (raw, f) => readCredentialsFile(String(raw), f), default: undefined };
  },

  /** Any custom parser; `shown` is the default as typed (a default that is not text shows nothing without it). */
  custom<T>(flag: string, description: string, parse: (raw: unknown, flag: string) => T, def?: T, shown?: string): OptionSpec<T> {
    if (def === undefined) return { flag, description, parse };
    return shown === undefined ? { flag, description, parse, default: def } : { flag, description, parse, default: def, shown };
  },
};

/** `host:port` or `:port` or `port` → `host:port`. IPv6 hosts in brackets. */
export function parseAddress(text: string, field = 'address'): string {
  const trimmed = text.trim().replace(/^[a-z]+:\/\//, '').replace(/\/$/, '');
  const match = /^(?:(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):)?(\d+)$/.exec(trimmed);
  if (!match) throw new InvalidArgumentError(field, `expected host:port, got '${text}'`);
  const port = Number(match[2]);
  if (port > 65535) throw new InvalidArgumentError(field, `port ${port} is out of range 0-65535`);
  const host = match[1] === '' || match[1] === undefined ? '127.0.0.1' : match[1];
  return `${host}:${port}`;
}
