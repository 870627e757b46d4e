// Reading documents from `-f`: a file (YAML or JSON, several documents separated by ---), a
// directory (every .yaml, .yml and .json in it, in name order, not recursive — as kubectl) or `-`
// (standard input). Every document is parsed before any is used, so a syntax error in the third
// file sends nothing; each comes back with where it came from, for messages.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { InvalidArgumentError } from '../../core/errors.js';
import { FileInputError } from '../errors.js';
import { readSource } from './shared.js';

const SPEC_FILES = /\.(ya?ml|json)$/i;

export interface SourceDocument {
  /** The file, or `standard input`. */
  readonly origin: string;
  /** `document 2: ` when the file holds several, else ''. */
  readonly where: string;
  readonly value: unknown;
}

/** Every document of the source, parsed; `what` names what an empty source lacks (`policy`). */
export async function readDocuments(source: string, what: string): Promise<SourceDocument[]> {
  const out: SourceDocument[] = [];
  for (const { origin, text } of await readTexts(source)) {
    const docs = parseAllDocuments(text);
    if (!Array.isArray(docs)) throw new FileInputError(origin, '(file)', 'not YAML or JSON');
    const present = docs.filter((d) => d.contents !== null || d.errors.length > 0);
    for (const [i, doc] of present.entries()) {
      const where = present.length > 1 ? `document ${i + 1}: ` : '';
      const bad = doc.errors[0];
      if (bad) throw new FileInputError(origin, `${where}line ${bad.linePos?.[0].line ?? '?'}`, `not valid YAML or JSON: ${bad.message.split('\n')[0] ?? ''}`);
      out.push({ origin, where, value: doc.toJS({ maxAliasCount: 100 }) as unknown });
    }
  }
  if (out.length === 0) throw new InvalidArgumentError('-f', `${source === '-' ? 'standard input' : source} holds no ${what}`);
  return out;
}

async function readTexts(source: string): Promise<{ origin: string; text: string }[]> {
  if (source === '-') return [{ origin: 'standard input', text: await readSource('-') }];
  const info = await stat(source).catch((err: NodeJS.ErrnoException) => {
    throw new InvalidArgumentError('-f', `cannot read ${source}: ${err.code ?? err.message}`);
  });
  if (!info.isDirectory()) return [{ origin: source, text: await readSource(source) }];
  const names = (await readdir(source)).filter((n) => SPEC_FILES.test(n)).sort();
  if (names.length === 0) throw new InvalidArgumentError('-f', `${source} holds no .yaml, .yml or .json file`);
  return Promise.all(names.map(async (n) => ({ origin: path.join(source, n), text: await readSource(path.join(source, n)) })));
}
