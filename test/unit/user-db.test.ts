// The host's users as tasks run as them (agent/user-db.ts): the real /etc/passwd and /etc/group
// (nobody, root), a temp passwd file for what a machine may hold (members of groups, numeric
// users with and without an entry, odd lines, a file that changes), and the getent fallback.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserDb } from '../../agent/user-db.js';
import { checkUser } from '../../agent/task-user.js';

let dir: string;
let passwdFile: string;
let groupFile: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agora-users-'));
  passwdFile = path.join(dir, 'passwd');
  groupFile = path.join(dir, 'group');
  fs.writeFileSync(
    passwdFile,
    [
      'root:x:0:0:root:/root:/bin/bash',
      '# a comment:x:1:1::/:/bin/sh',
      '+nis:x:2:2::/:/bin/sh',
      'alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash',
      'broken:x:notanumber:1::/:/bin/sh',
      'short:x:3:3',
      'alice:x:2000:2000:second alice:/elsewhere:/bin/sh',
      'wheelie:x:1001:0::/home/wheelie:/bin/sh',
      'nohome:x:1002:1002:::/bin/sh',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(groupFile, ['root:x:0:', 'alice:x:1000:', 'docker:x:105:alice,bob', 'staff:x:50: alice ', 'empty:x:51:', ''].join('\n'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const filesOnly = (): UserDb => new UserDb({ passwdFile, groupFile, getent: null });

describe('UserDb on this machine', () => {
  const users = new UserDb();

  it('finds nobody and root in /etc/passwd, by name and by uid', () => {
    expect(users.lookup('nobody')).toEqual({ name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent', groups: [65534], known: true });
    expect(users.lookup('root')).toMatchObject({ name: 'root', uid: 0, gid: 0, home: '/root', known: true });
    expect(users.lookup('65534')).toEqual(users.lookup('nobody'));
    expect(users.lookup('0')?.name).toBe('root');
  });

  it('finds nothing for a name no database has (getent asked, and answering nothing)', () => {
    expect(users.lookup('agora-no-such-user')).toBeUndefined();
  });
});

describe('UserDb on given files', () => {
  it('reads uid, gid, home and the groups that list the user, the primary one included', () => {
    expect(filesOnly().lookup('alice')).toEqual({ name: 'alice', uid: 1000, gid: 1000, home: '/home/alice', groups: [50, 105, 1000], known: true });
    expect(filesOnly().lookup('nohome')).toMatchObject({ home: '/', groups: [1002] });
  });

  it('takes the first entry of a name or a uid, as getpwnam and getpwuid do, and skips what is not a user', () => {
    expect(filesOnly().lookup('alice')?.uid).toBe(1000);
    expect(filesOnly().lookup('2000')).toMatchObject({ name: 'alice', uid: 2000, gid: 2000, home: '/elsewhere' });
    for (const name of ['broken', 'short', '+nis', '# a comment', '']) expect(filesOnly().lookup(name)).toBeUndefined();
  });

  it('reads uid and uid:gid: with an entry its name, home and groups; without one the ids as given', () => {
    expect(filesOnly().lookup('1000')).toEqual(filesOnly().lookup('alice'));
    expect(filesOnly().lookup('1000:105')).toEqual({ name: 'alice', uid: 1000, gid: 105, home: '/home/alice', groups: [50, 105], known: true });
    expect(filesOnly().lookup('4242')).toEqual({ name: '4242', uid: 4242, gid: 4242, home: '/', groups: [], known: false });
    expect(filesOnly().lookup('4242:100')).toEqual({ name: '4242', uid: 4242, gid: 100, home: '/', groups: [], known: false });
  });

  it('refuses what cannot be a user: (uid_t)-1, names with odd characters, options for getent', () => {
    for (const bad of ['4294967295', '1:4294967295', '99999999999', '-1', '--help', 'a b', 'a:b', 'x\nroot', '../etc']) {
      expect(filesOnly().lookup(bad)).toBeUndefined();
    }
  });

  it('reads the files again when they change, and only then', () => {
    const users = filesOnly();
    expect(users.lookup('carol')).toBeUndefined();
    fs.appendFileSync(passwdFile, 'carol:x:1003:1003::/home/carol:/bin/sh\n');
    expect(users.lookup('carol')).toMatchObject({ uid: 1003, groups: [1003] });
    fs.appendFileSync(groupFile, 'ops:x:60:carol\n');
    expect(users.lookup('carol')?.groups).toEqual([60, 1003]);
    fs.rmSync(groupFile);
    expect(users.lookup('alice')?.groups).toEqual([1000]);
  });

  it('asks getent, once a minute, for a user the files do not have', () => {
    let now = 0;
    // A stand-in for getent that serves one NSS user and counts its calls.
    const calls = path.join(dir, 'calls');
    const getent = path.join(dir, 'getent');
    fs.writeFileSync(
      getent,
      `#!/bin/sh\necho "$@" >> ${calls}\ncase "$1 $2" in\n  "passwd ldapuser"|"passwd 5000") echo 'ldapuser:*:5000:5000:LDAP:/home/ldapuser:/bin/sh' ;;\n  "initgroups ldapuser") echo 'ldapuser   5001 5002' ;;\n  *) exit 2 ;;\nesac\n`,
      { mode: 0o755 },
    );
    const users = new UserDb({ passwdFile, groupFile, getent, now: () => now });
    expect(users.lookup('ldapuser')).toEqual({ name: 'ldapuser', uid: 5000, gid: 5000, home: '/home/ldapuser', groups: [5000, 5001, 5002], known: true });
    expect(users.lookup('5000')?.name).toBe('ldapuser');
    expect(users.lookup('ghost')).toBeUndefined();
    expect(users.lookup('ghost')).toBeUndefined();
    expect(users.lookup('ldapuser')?.uid).toBe(5000);
    expect(users.lookup('alice')?.uid).toBe(1000); // in the files: no getent
    expect(fs.readFileSync(calls, 'utf8').trim().split('\n')).toEqual(['passwd ldapuser', 'initgroups ldapuser', 'passwd 5000', 'initgroups ldapuser', 'passwd ghost']);
    now += 61_000;
    users.lookup('ghost');
    expect(fs.readFileSync(calls, 'utf8').trim().split('\n').at(-1)).toBe('passwd ghost');
    expect(fs.readFileSync(calls, 'utf8').trim().split('\n')).toHaveLength(6);
  });
});

describe('checkUser: the agent\u2019s policy', () => {
  const policy = (allowRoot: boolean): { users: UserDb; allowRoot: boolean } => ({ users: filesOnly(), allowRoot });

  it('names a user that does not exist', () => {
    expect(checkUser('mallory', policy(false))).toEqual({ refusal: "user 'mallory' does not exist on this agent" });
  });

  it('refuses root by name, by uid and by gid 0 without --allow-root-tasks, and allows it with the flag', () => {
    expect(checkUser('root', policy(false))).toEqual({ refusal: "user 'root' is root (uid 0); this agent runs tasks as root only with --allow-root-tasks" });
    expect(checkUser('0', policy(false))).toEqual({ refusal: "user '0' is root (uid 0); this agent runs tasks as root only with --allow-root-tasks" });
    expect(checkUser('0:1000', policy(false))).toMatchObject({ refusal: expect.stringContaining('--allow-root-tasks') });
    expect(checkUser('1000:0', policy(false))).toEqual({ refusal: "user '1000:0' is root (gid 0); this agent runs tasks as root only with --allow-root-tasks" });
    expect(checkUser('wheelie', policy(false))).toMatchObject({ refusal: expect.stringContaining('(gid 0)') });
    expect(checkUser('root', policy(true))).toMatchObject({ identity: { uid: 0, gid: 0 } });
    expect(checkUser('alice', policy(false))).toMatchObject({ identity: { uid: 1000 } });
  });
});
