// What the client commands share: KIND/NAME references, -o output, and reading spec files.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { InvalidArgumentError } from '../../core/errors.js';
import { kindFromAlias, namesOf } from '../../frameworks/api/kinds.js';
import type { WorkloadKind } from '../../frameworks/workload.js';
import { AgoraClient, type ClientFlags } from '../client.js';

export interface WorkloadRef {
  readonly kind: WorkloadKind;
  readonly name: string;
  /** `service/web`, for messages. */
  readonly label: string;
}

/** `service/web`, or `service web` (two arguments). */
export function parseRef(first: string, second?: string, only?: WorkloadKind): WorkloadRef {
  const [kindText, name] = second === undefined ? splitRef(first) : [first, second];
  const kind = kindFromAlias(kindText);
  if (!kind) throw new InvalidArgumentError('KIND/NAME', `unknown kind '${kindText}': expected service, cronjob or job (e.g. service/web)`);
  if (only && kind !== only) throw new InvalidArgumentError('KIND/NAME', `this command takes a ${namesOf(only).document.toLowerCase()}, not a ${kindText}`);
  if (name === '') throw new InvalidArgumentError('KIND/NAME', `'${first}' names no workload (e.g. service/web)`);
  return { kind, name, label: `${namesOf(kind).document.toLowerCase()}/${name}` };
}

function splitRef(text: string): [string, string] {
  const slash = text.indexOf('/');
  if (slash === -1) throw new InvalidArgumentError('KIND/NAME', `'${text}' is not KIND/NAME (e.g. service/web)`);
  return [text.slice(0, slash), text.slice(slash + 1)];
}

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml';

export function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined) return 'table';
  if (value === 'wide' || value === 'json' || value === 'yaml') return value;
  throw new InvalidArgumentError('-o', `expected wide, json or yaml, got '${value}'`);
}

/** -o for commands that print a table by default and JSON or YAML on demand (no wide). */
export function structured(value: string | undefined): 'json' | 'yaml' | undefined {
  if (value === undefined) return undefined;
  if (value === 'json' || value === 'yaml') return value;
  throw new InvalidArgumentError('-o', `expected json or yaml, got '${value}'`);
}

/** Print `value` as JSON or YAML. */
export function printStructured(format: 'json' | 'yaml', value: unknown): void {
  process.stdout.write(format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : toYaml(value));
}

/** The file's text; `-` reads standard input. */
export async function readSource(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError('-f', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The client for a command's connection flags (withClientFlags), the environment and the config file. */
export function clientFor(cmd: Command): AgoraClient {
  return AgoraClient.fromFlags(cmd.opts<ClientFlags>());
}

/** A positive integer argument (`scale service/web 3`). */
export function count(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError(what, `expected a non-negative integer, got '${text}'`);
  return Number(text);
}
