// The framed stream of `agora exec` (core/exec-protocol.ts), the request's query, and the argv the
// agent runs a process task's exec with (agent/exec-process.ts).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { encodeFrame, execQueryString, FRAME, FrameReader, MAX_FRAME_BYTES, parseError, parseExecQuery, parseExit, parseSize } from '../../core/exec-protocol.js';
import { execArgv, shellQuote } from '../../agent/exec-process.js';
import { execScope } from '../../core/security/exec-access.js';
import { ALL_GRANTS, type Principal } from '../../core/security/principal.js';

function query(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}

describe('exec frames', () => {
  it('reads frames however the bytes are cut', () => {
    const bytes = Buffer.concat([encodeFrame(FRAME.STDOUT, Buffer.from('hello')), encodeFrame(FRAME.EXIT, { exitCode: 3 }), encodeFrame(FRAME.STDIN_EOF)]);
    for (const cut of [1, 3, 5, 7, bytes.length]) {
      const reader = new FrameReader();
      const frames = [];
      for (let at = 0; at < bytes.length; at += cut) frames.push(...reader.push(bytes.subarray(at, at + cut)));
      expect(frames.map((f) => [f.type, f.payload.toString()])).toEqual([
        [FRAME.STDOUT, 'hello'],
        [FRAME.EXIT, '{"exitCode":3}'],
        [FRAME.STDIN_EOF, ''],
      ]);
    }
  });

  it('refuses an unknown type and a frame over the bound', () => {
    expect(() => new FrameReader().push(Buffer.from([9, 0, 0, 0, 0]))).toThrow(/unknown frame type 9/);
    const header = Buffer.alloc(5);
    header.writeUInt8(FRAME.STDIN, 0);
    header.writeUInt32BE(MAX_FRAME_BYTES + 1, 1);
    expect(() => new FrameReader().push(header)).toThrow(/over the 1048576-byte bound/);
    expect(() => encodeFrame(FRAME.STDOUT, Buffer.alloc(MAX_FRAME_BYTES + 1))).toThrow(RangeError);
  });

  it('takes a resize only when it is one', () => {
    expect(parseSize(Buffer.from('{"rows":40,"cols":100}'))).toEqual({ rows: 40, cols: 100 });
    for (const bad of ['{"rows":0,"cols":1}', '{"rows":1.5,"cols":1}', '{"rows":"1","cols":1}', 'nope', '{"rows":1,"cols":100000}']) expect(parseSize(Buffer.from(bad))).toBeUndefined();
  });
});

describe('exec query', () => {
  it('round-trips the request', () => {
    const request = { command: ['sh', '-c', "echo 'a b' & x=1"], stdin: true, tty: true, size: { rows: 24, cols: 80 }, term: 'xterm-256color' };
    expect(parseExecQuery(query(execQueryString(request)))).toEqual(request);
    expect(parseExecQuery(query('command=true'))).toEqual({ command: ['true'], stdin: false, tty: false, size: undefined, term: undefined });
  });

  it('names the parameter at fault', () => {
    const field = (text: string): unknown => {
      try {
        parseExecQuery(query(text));
      } catch (err) {
        return (err as { field?: string }).field;
      }
      return 'accepted';
    };
    expect(field('')).toBe('command');
    expect(field('command=')).toBe('command');
    expect(field('command=a%00b')).toBe('command');
    expect(field('command=x&tty=yes')).toBe('tty');
    expect(field('command=x&rows=10')).toBe('cols');
    expect(field('command=x&rows=0&cols=10')).toBe('rows');
    expect(field('command=x&term=%1b%5b0m')).toBe('term');
    expect(field(`${'command=x&'.repeat(1025)}`)).toBe('command');
  });
});

describe('exec argv (process tasks)', () => {
  it('quotes every word for the pty shell', () => {
    const words = ['printf', '%s|', "it's", 'a b', '$HOME', '`id`'];
    const out = execFileSync('/bin/sh', ['-c', `exec ${words.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
    expect(out).toBe("it's|a b|$HOME|`id`|");
  });

  it('joins the cgroups, then the user, then the pty', () => {
    const argv = execArgv({ command: ['sh'], stdin: true, tty: true, size: { rows: 30, cols: 90 } }, ['/cg/memory/t/cgroup.procs', '/cg/pids/t/cgroup.procs'], ['/usr/bin/setpriv', '--reuid=65534', '--']);
    expect(argv.slice(2)).toEqual([
      'agora-exec',
      '2',
      '/cg/memory/t/cgroup.procs',
      '/cg/pids/t/cgroup.procs',
      '/usr/bin/setpriv',
      '--reuid=65534',
      '--',
      '/usr/bin/script',
      '-q',
      '-e',
      '-c',
      "/bin/stty rows 30 cols 90 2>/dev/null; exec 'sh'",
      '/dev/null',
    ]);
    // Without a terminal the command follows the user as it is.
    expect(execArgv({ command: ['ls', '-l'], stdin: false, tty: false }, [], []).slice(2)).toEqual(['agora-exec', '0', 'ls', '-l']);
  });

  it('refuses to run outside a cgroup it cannot join', () => {
    const argv = execArgv({ command: ['echo', 'ran'], stdin: false, tty: false }, ['/nonexistent/cgroup.procs'], []);
    let status = 0;
    let stderr = '';
    try {
      execFileSync('/bin/sh', argv, { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      status = (err as { status: number }).status;
      stderr = (err as { stderr: string }).stderr;
    }
    expect(status).toBe(126);
    expect(stderr).toContain("cannot join the task's cgroup /nonexistent/cgroup.procs");
  });
});

describe('exec scope', () => {
  const principal = (grants: Principal['grants']): Principal => ({ name: 'p', via: 'token', grants }) as Principal;
  it('is every visible task with tasks.exec, else only the caller\u2019s own', () => {
    expect(execScope(principal(ALL_GRANTS))).toBe('visible');
    expect(execScope(principal([{ action: 'tasks.exec' }]))).toBe('visible');
    expect(execScope(principal([{ action: 'frameworks.view' }]))).toBe('own');
  });
});

describe('exec EXIT and ERROR payloads', () => {
  it('reads good ones and gives undefined for bad ones rather than throwing', () => {
    expect(parseExit(Buffer.from('{"exitCode":7,"signal":"SIGTERM"}'))).toEqual({ exitCode: 7, signal: 'SIGTERM' });
    expect(parseError(Buffer.from('{"code":"AGORA_TIMEOUT","message":"idle"}'))).toEqual({ code: 'AGORA_TIMEOUT', message: 'idle' });
    for (const bad of ['', 'not json', 'null', '{"exitCode":"7"}', '{"exitCode":1.5}']) expect(parseExit(Buffer.from(bad))).toBeUndefined();
    for (const bad of ['', '{', '7', '{"code":1,"message":"m"}', '{"code":"C"}']) expect(parseError(Buffer.from(bad))).toBeUndefined();
  });
});
