// ZooKeeper credentials as people give them: in the store URL's userinfo, in a credentials file
// (--zk-credentials-file), in code; and kept out of messages, logs and JSON.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMasterLocation } from '../../agent/options.js';
import { compileFrameworksOptions } from '../../frameworks/host-options.js';
import { compileMasterOptions } from '../../master/options.js';
import { parseStoreUrl, readCredentialsFile, redactStoreUrl, storeCredentials } from '../../core/store/index.js';
import { thrown } from '../support/thrown.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agora-credentials-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string): string => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
};

describe('credentials in zk:// URLs', () => {
  it('takes user:password before the hosts; the password may hold ":" and "@"', () => {
    expect(parseStoreUrl('zk://agora:s3cret@h1:2181,h2/agora')).toEqual({
      kind: 'zookeeper',
      servers: 'h1:2181,h2:2181',
      chroot: '/agora',
      credentials: { user: 'agora', password: 's3cret' },
    });
    expect(parseStoreUrl('zk://u:a:b:c@h')).toMatchObject({ servers: 'h:2181', chroot: '', credentials: { user: 'u', password: 'a:b:c' } });
    expect(parseStoreUrl('zk://u:p@ss@h/x')).toMatchObject({ servers: 'h:2181', credentials: { user: 'u', password: 'p@ss' } });
    expect(parseStoreUrl('zk://h1:2181/agora')).not.toHaveProperty('credentials');
  });

  it('percent-decodes the user and the password', () => {
    expect(parseStoreUrl('zk://us%20er:p%2Fw%25d%40%3A%C3%A9@h/x')).toMatchObject({ credentials: { user: 'us er', password: 'p/w%d@:é' } });
  });

  it.each([
    ['zk://agora@h/x', 'userinfo must be user:password'],
    ['zk://:s3cret@h/x', 'user must not be empty'],
    ['zk://agora:@h/x', 'password must not be empty'],
    ['zk://ag%3Aora:s3cret@h/x', "user must not contain ':'"],
    ['zk://agora:s3cret%zz@h/x', 'malformed percent-encoding'],
    ['zk://agora:s3cret@/x', 'must look like zk://'],
    ['zk://agora:s3cret@h:1:2/x', 'must look like zk://'],
  ])('refuses %s, naming the store field and not the password', (url, message) => {
    const err = thrown(() => parseStoreUrl(url));
    expect(err.code).toBe('AGORA_INVALID_ARGUMENT');
    expect(err.field).toBe('store');
    expect(err.message).toContain(message);
    expect(err.message).not.toContain('s3cret');
  });

  it('redacts the password wherever a URL is shown', () => {
    expect(redactStoreUrl('zk://agora:s3cret@h1:2181,h2:2181/agora')).toBe('zk://agora:***@h1:2181,h2:2181/agora');
    expect(redactStoreUrl('zk://u:p@ss@h/x')).toBe('zk://u:***@h/x');
    expect(redactStoreUrl('zk://justapassword@h/x')).toBe('zk://***@h/x');
    // an unencoded '/' in the password (refused by the parser) is hidden all the same
    expect(redactStoreUrl('zk://u:pa/ss@h/x')).toBe('zk://u:***@h/x');
    expect(redactStoreUrl('zk://h1:2181/agora')).toBe('zk://h1:2181/agora');
    expect(redactStoreUrl('/var/lib/agora')).toBe('/var/lib/agora');
    expect(thrown(() => parseStoreUrl('zk://agora:s3cret@h:1:2/x')).message).toContain("'zk://agora:***@h:1:2/x'");
  });

  it("the agent's --master takes them, and a bad zk:// URL names the flag, redacted", () => {
    expect(parseMasterLocation('zk://agora:s3cret@h:2181/agora', '--master')).toEqual({ kind: 'zk', url: 'zk://agora:s3cret@h:2181/agora' });
    for (const bad of ['zk://agora:s3cret@', 'zk://agora:s3cret@h:x/agora', 'zk://agora:s3cret%@h/agora']) {
      const err = thrown(() => parseMasterLocation(bad, '--master'));
      expect(err.field).toBe('--master');
      expect(err.message).toMatch(/^--master: /);
      expect(err.message).not.toContain('s3cret');
    }
  });
});

describe('credentials objects', () => {
  it('print and serialise without the password, yet spread and compare as plain user and password', () => {
    const c = storeCredentials('agora', 's3cret');
    expect(JSON.stringify({ c })).toBe('{"c":{"user":"agora","password":"***"}}');
    expect(inspect({ c })).not.toContain('s3cret');
    expect(`${inspect(c)}`).toContain('agora');
    expect({ ...c }).toEqual({ user: 'agora', password: 's3cret' });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('refuses an empty user or password, and a user with ":" (digest ids split at the first one)', () => {
    expect(thrown(() => storeCredentials('', 'p')).field).toBe('credentials');
    expect(thrown(() => storeCredentials('u', '')).message).toContain('password must not be empty');
    expect(thrown(() => storeCredentials('a:b', 'p')).message).toContain("must not contain ':'");
  });
});

describe('--zk-credentials-file', () => {
  it('reads user:password, dropping one trailing newline but no other whitespace', () => {
    expect(readCredentialsFile(file('lf', 'agora:s3cret\n'), '--f')).toEqual({ user: 'agora', password: 's3cret' });
    expect(readCredentialsFile(file('crlf', 'agora:s3cret\r\n'), '--f')).toEqual({ user: 'agora', password: 's3cret' });
    expect(readCredentialsFile(file('none', 'agora:a:b '), '--f')).toEqual({ user: 'agora', password: 'a:b ' });
    expect(readCredentialsFile(file('percent', 'agora:p%41ss'), '--f')).toEqual({ user: 'agora', password: 'p%41ss' });
  });

  it.each([
    ['missing', path.join(dir, 'nope'), 'no such file'],
    ['empty', file('empty', ''), 'is empty'],
    ['a newline alone', file('newline', '\n'), 'is empty'],
    ['no colon', file('nocolon', 's3cret\n'), 'expected user:password'],
    ['no password', file('nopass', 'agora:\n'), 'password must not be empty'],
  ])('a %s file fails, naming the flag and not the content', (_what, p, message) => {
    const err = thrown(() => compileMasterOptions({ zk: 'zk://h/agora', zkCredentialsFile: p }));
    expect(err.field).toBe('--zk-credentials-file');
    expect(err.message).toContain(message);
    expect(err.message).not.toContain('s3cret');
  });

  it('compiles into the master and frameworks options; absent, there are none', () => {
    const p = file('good', 'agora:s3cret\n');
    expect(compileMasterOptions({ zk: 'zk://h/agora', zkCredentialsFile: p }).zkCredentialsFile).toEqual({ user: 'agora', password: 's3cret' });
    expect(compileFrameworksOptions({ master: 'zk://h/agora', zkCredentialsFile: p }).zkCredentialsFile).toEqual({ user: 'agora', password: 's3cret' });
    expect(compileMasterOptions({}).zkCredentialsFile).toBeUndefined();
    expect(JSON.stringify(compileMasterOptions({ zkCredentialsFile: p }))).not.toContain('s3cret');
  });
});
