// The README's tour ("The first five minutes") as steps a test can run: each ```yaml block is a
// file to write, each line of a ```sh block a command. Pure: it reads text and returns steps.
//
// A yaml block's file name is the last `name.yaml` in backticks in the prose just before it (as
// the README says "in a file, `web.yaml`:"), else `<!-- file: name.yaml -->` written before the
// block, else tour-N.yaml. A command is one line (or lines joined by a trailing backslash); lines
// that are only a comment are left out, the rest is given to the shell as written, comments too.

export type TourStep =
  | { readonly kind: 'file'; readonly name: string; readonly text: string; readonly workload: string | undefined }
  | { readonly kind: 'command'; readonly text: string; readonly line: number };

const FENCE = /^```(\w*)\s*$/;

/** The section under `## heading`, up to the next `## `; throws when the README has none. */
export function sectionOf(markdown: string, heading: string): { readonly text: string; readonly firstLine: number } {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  if (start < 0) throw new Error(`README has no section '## ${heading}'`);
  const rest = lines.slice(start + 1).findIndex((l) => /^## /.test(l));
  const end = rest < 0 ? lines.length : start + 1 + rest;
  return { text: lines.slice(start + 1, end).join('\n'), firstLine: start + 2 };
}

export function tourSteps(section: string, firstLine = 1): TourStep[] {
  const lines = section.split('\n');
  const steps: TourStep[] = [];
  let prose: string[] = [];
  let files = 0;
  for (let i = 0; i < lines.length; i += 1) {
    const fence = FENCE.exec(lines[i] ?? '');
    if (!fence) {
      prose.push(lines[i] ?? '');
      continue;
    }
    const lang = fence[1] ?? '';
    const body: { text: string; line: number }[] = [];
    for (i += 1; i < lines.length && !/^```\s*$/.test(lines[i] ?? ''); i += 1) body.push({ text: lines[i] ?? '', line: firstLine + i });
    if (lang === 'yaml' || lang === 'yml') {
      files += 1;
      const text = `${body.map((b) => b.text).join('\n')}\n`;
      steps.push({ kind: 'file', name: fileName(prose.join('\n')) ?? `tour-${files}.yaml`, text, workload: /^name:\s*(\S+)/m.exec(text)?.[1] });
    } else if (lang === 'sh' || lang === 'bash') {
      steps.push(...commands(body));
    }
    prose = [];
  }
  return steps;
}

function fileName(prose: string): string | undefined {
  const marked = [...prose.matchAll(/<!--\s*file:\s*([\w./-]+\.ya?ml)\s*-->/g)].at(-1)?.[1];
  if (marked !== undefined) return marked;
  return [...prose.matchAll(/`([\w.-]+\.ya?ml)`/g)].at(-1)?.[1];
}

function commands(body: readonly { text: string; line: number }[]): TourStep[] {
  const out: TourStep[] = [];
  let pending: { text: string; line: number } | undefined;
  for (const { text, line } of body) {
    if (pending === undefined && (text.trim() === '' || text.trim().startsWith('#'))) continue;
    const joined = pending === undefined ? { text, line } : { text: `${pending.text}\n${text}`, line: pending.line };
    if (/\\\s*$/.test(text.replace(/\s+#.*$/, ''))) {
      pending = joined;
      continue;
    }
    pending = undefined;
    out.push({ kind: 'command', text: joined.text, line: joined.line });
  }
  if (pending !== undefined) out.push({ kind: 'command', text: pending.text, line: pending.line });
  return out;
}

/** Does a command follow something forever (it then runs for a bounded time)? */
export function follows(command: string): boolean {
  const code = command.replace(/\s#.*$/gm, '');
  return /(^|\s)(-f|--follow|-w|--watch)(\s|$)/.test(code.replace(/apply\s+-f|-f\s+\S+\.ya?ml/g, '')) || /[?&]watch=(1|true)/.test(code);
}
