// Ask a DNS server with Debian's `dig` (dnsutils), the way an operator would, and read its answer.
//
//   const r = await dig(port, 'web.services.agora', 'A');            // UDP, EDNS as dig sends it
//   r.status === 'NOERROR'; r.flags.includes('aa'); r.answers.map((a) => a.data)
//   await dig(port, '_http._tcp.web.services.agora', 'SRV', ['+tcp']);
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DigRecord {
  readonly name: string;
  readonly ttl: number;
  readonly type: string;
  readonly data: string;
}

export interface DigResult {
  /** NOERROR, NXDOMAIN, REFUSED, … */
  readonly status: string;
  /** Header flags: qr, aa, tc, rd, ra. */
  readonly flags: readonly string[];
  readonly answers: readonly DigRecord[];
  readonly additionals: readonly DigRecord[];
}

export async function dig(port: number, name: string, type: string, extra: readonly string[] = [], server = '127.0.0.1'): Promise<DigResult> {
  const args = [`@${server}`, '-p', String(port), name, type, '+noall', '+comments', '+answer', '+additional', '+time=2', '+tries=1', ...extra];
  const { stdout } = await run('dig', args, { timeout: 10_000 });
  return parseDig(stdout);
}

export function parseDig(text: string): DigResult {
  const status = /status: ([A-Z]+)/.exec(text)?.[1] ?? '';
  const flags = (/;; flags: ([a-z ]+);/.exec(text)?.[1] ?? '').split(' ').filter(Boolean);
  const answers: DigRecord[] = [];
  const additionals: DigRecord[] = [];
  let section: DigRecord[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith(';; ANSWER SECTION')) section = answers;
    else if (line.startsWith(';; ADDITIONAL SECTION')) section = additionals;
    else if (line.startsWith(';') || line.trim() === '') continue;
    else if (section) {
      const [rrName = '', ttl = '0', , rrType = '', ...data] = line.split(/\s+/);
      section.push({ name: rrName, ttl: Number(ttl), type: rrType, data: data.join(' ') });
    }
  }
  return { status, flags, answers, additionals };
}
