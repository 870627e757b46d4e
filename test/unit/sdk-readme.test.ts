// sdk/README.md cannot drift from the code it shows. Two markers, each on the line before a ```ts
// block:
//   <!-- from examples/daemon.ts -->  the block is a verbatim piece of examples/daemon.ts (which the
//                                     e2e test test/e2e/daemon-example.test.ts runs), and the pieces
//                                     come in the file's order;
//   <!-- compiles -->                 the block type-checks on its own, importing only 'agora/sdk'.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/build.js';

const README = readFileSync(path.join(REPO, 'sdk/README.md'), 'utf8');
const DAEMON = readFileSync(path.join(REPO, 'examples/daemon.ts'), 'utf8');

/** The ```ts blocks right after `<!-- marker -->`, with the line each starts on. */
function blocks(marker: string): Array<{ line: number; code: string }> {
  const found: Array<{ line: number; code: string }> = [];
  const re = new RegExp(`<!-- ${marker.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} -->\\n\`\`\`ts\\n([\\s\\S]*?)\`\`\`\\n`, 'g');
  for (const m of README.matchAll(re)) found.push({ line: README.slice(0, m.index).split('\n').length + 2, code: m[1] ?? '' });
  return found;
}

/** Diagnostics of `code` as a module of its own, `agora/sdk` being this repository's sdk/index.ts. */
function typeCheck(sources: ReadonlyMap<string, string>): string[] {
  const config = ts.readConfigFile(path.join(REPO, 'tsconfig.json'), (f) => ts.sys.readFile(f));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, REPO);
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true, declaration: false, sourceMap: false, baseUrl: REPO, paths: { 'agora/sdk': ['./sdk/index.ts'] } };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => sources.has(f) || fileExists.call(host, f);
  host.readFile = (f) => sources.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => {
    const text = sources.get(f);
    return text === undefined ? getSourceFile.call(host, f, lang, ...rest) : ts.createSourceFile(f, text, lang, true);
  };
  const program = ts.createProgram([...sources.keys()], options, host);
  return [...sources.keys()].flatMap((file) =>
    ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => `${path.basename(d.file?.fileName ?? file)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`),
  );
}

describe('sdk/README.md', () => {
  it('quotes examples/daemon.ts verbatim, in order, in the tutorial', () => {
    const quoted = blocks('from examples/daemon.ts');
    expect(quoted.length).toBeGreaterThanOrEqual(8); // the tutorial's steps: dropping a marker is not a way out
    let from = 0;
    for (const { line, code } of quoted) {
      const at = DAEMON.indexOf(code, from);
      expect(at, `sdk/README.md:${line} is not in examples/daemon.ts (after the previous piece):\n${code}`).toBeGreaterThanOrEqual(0);
      from = at + code.length;
    }
  });

  it('has code blocks that compile against agora/sdk alone', () => {
    const samples = blocks('compiles');
    expect(samples.length).toBeGreaterThanOrEqual(2);
    for (const { code, line } of samples) expect(code, `sdk/README.md:${line} imports something other than agora/sdk`).not.toMatch(/from '(?!agora\/sdk')/);
    const sources = new Map(samples.map(({ code, line }) => [path.join(REPO, `sdk-readme-line-${line}.ts`), code]));
    expect(typeCheck(sources)).toEqual([]);
  }, 60_000);

  it('would notice a sample that does not compile', () => {
    const broken = new Map([[path.join(REPO, 'sdk-readme-broken.ts'), "import { matchOffers } from 'agora/sdk';\nmatchOffers([], [{}]);\n"]]);
    expect(typeCheck(broken).join('\n')).toMatch(/resources/);
  }, 60_000);
});
