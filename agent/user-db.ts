// The host's users and groups, as tasks run as them: a name, a numeric `uid` or `uid:gid` becomes
// uid, gid, home and supplementary groups.
//
//   lookup(user) ──► /etc/passwd + /etc/group   parsed once, again only when either file changes
//        │                                       (the cache is keyed by mtime, size and inode)
//        └ not there ──► getent passwd / getent initgroups   (users from NSS: LDAP, SSSD, systemd);
//                         once per name per minute, found or not, so a launch storm for an
//                         unknown user does not spawn a process per task
//
// Launches read the files, never spawn, for users the files know. `initgroups` rather than a full
// `getent group`: enumerating every group is slow or disabled in large directories, and initgroups
// answers what login (and setpriv --init-groups) would give the user.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export interface UserIdentity {
  /** The user's name; a numeric uid with no entry keeps its number as its name. */
  readonly name: string;
  readonly uid: number;
  /** The primary group: the entry's, or the gid of a `uid:gid` user. */
  readonly gid: number;
  readonly home: string;
  /** Every group the user is in, the primary one included, sorted (what initgroups(3) sets). */
  readonly groups: readonly number[];
  /** False for a numeric uid the user database does not have: no name, no supplementary groups. */
  readonly known: boolean;
}

export interface UserDbOptions {
  readonly passwdFile?: string;
  readonly groupFile?: string;
  /** The getent program for users the files do not have; null: files only. Default /usr/bin/getent. */
  readonly getent?: string | null;
  /** Milliseconds, for how long a getent answer is kept (tests inject it). */
  readonly now?: () => number;
}

interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

interface Files {
  readonly key: string;
  readonly byName: ReadonlyMap<string, PasswdEntry>;
  readonly byUid: ReadonlyMap<number, PasswdEntry>;
  /** user name → the gids of the groups that list it as a member. */
  readonly memberOf: ReadonlyMap<string, readonly number[]>;
}

const GETENT_TTL_MS = 60_000;
const MAX_ID = 4_294_967_294; // (uid_t)-1 means "unchanged" to setresuid: never a user
const NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,255}\$?$/;
const NUMERIC = /^(\d{1,10})(?::(\d{1,10}))?$/;

export class UserDb {
  readonly #passwdFile: string;
  readonly #groupFile: string;
  readonly #getent: string | null;
  readonly #now: () => number;
  #files: Files | undefined;
  readonly #fromGetent = new Map<string, { at: number; user: UserIdentity | undefined }>();

  constructor(options: UserDbOptions = {}) {
    this.#passwdFile = options.passwdFile ?? '/etc/passwd';
    this.#groupFile = options.groupFile ?? '/etc/group';
    this.#getent = options.getent === undefined ? '/usr/bin/getent' : options.getent;
    this.#now = options.now ?? Date.now;
  }

  /** The user `spec` (a name, `uid` or `uid:gid`) stands for; undefined when there is no such user. */
  lookup(spec: string): UserIdentity | undefined {
    const numeric = NUMERIC.exec(spec);
    if (numeric) return this.#numeric(Number(numeric[1]), numeric[2] === undefined ? undefined : Number(numeric[2]));
    if (!NAME.test(spec)) return undefined;
    const files = this.#load();
    const entry = files.byName.get(spec);
    return entry ? fromFiles(files, entry) : this.#viaGetent(spec);
  }

  #numeric(uid: number, gid: number | undefined): UserIdentity | undefined {
    if (uid > MAX_ID || (gid !== undefined && gid > MAX_ID)) return undefined;
    const files = this.#load();
    const entry = files.byUid.get(uid);
    const known = entry ? fromFiles(files, entry) : this.#viaGetent(String(uid));
    if (known) return gid === undefined || gid === known.gid ? known : { ...known, gid, groups: sortedUnique([gid, ...known.groups.filter((g) => g !== known.gid)]) };
    // No entry: the ids as given; a lone uid gets the group of the same number (user private groups).
    return Object.freeze({ name: String(uid), uid, gid: gid ?? uid, home: '/', groups: Object.freeze([]), known: false });
  }

  #load(): Files {
    const key = `${fileKey(this.#passwdFile)}|${fileKey(this.#groupFile)}`;
    if (this.#files?.key !== key) this.#files = parseFiles(key, readText(this.#passwdFile), readText(this.#groupFile));
    return this.#files;
  }

  #viaGetent(key: string): UserIdentity | undefined {
    if (this.#getent === null) return undefined;
    const cached = this.#fromGetent.get(key);
    if (cached && this.#now() - cached.at < GETENT_TTL_MS) return cached.user;
    const user = this.#askGetent(key);
    this.#fromGetent.set(key, { at: this.#now(), user });
    return user;
  }

  #askGetent(key: string): UserIdentity | undefined {
    const entry = parsePasswdLine(getent(this.#getent ?? '', ['passwd', key]).split('\n')[0] ?? '');
    if (!entry) return undefined;
    // `name  gid gid …`: the groups that list the user, without its primary one.
    const extra = getent(this.#getent ?? '', ['initgroups', entry.name]).trim().split(/\s+/).slice(1).map(Number).filter(Number.isInteger);
    return identity(entry, extra);
  }
}

function getent(program: string, args: string[]): string {
  const result = spawnSync(program, args, { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] });
  return result.status === 0 ? result.stdout : '';
}

function fromFiles(files: Files, entry: PasswdEntry): UserIdentity {
  return identity(entry, files.memberOf.get(entry.name) ?? []);
}

function identity(entry: PasswdEntry, memberOf: readonly number[]): UserIdentity {
  return Object.freeze({ name: entry.name, uid: entry.uid, gid: entry.gid, home: entry.home, groups: Object.freeze(sortedUnique([entry.gid, ...memberOf])), known: true });
}

function parseFiles(key: string, passwd: string, group: string): Files {
  const byName = new Map<string, PasswdEntry>();
  const byUid = new Map<number, PasswdEntry>();
  for (const line of passwd.split('\n')) {
    const entry = parsePasswdLine(line);
    // The first entry wins, as getpwnam(3) and getpwuid(3) answer.
    if (entry && !byName.has(entry.name)) byName.set(entry.name, entry);
    if (entry && !byUid.has(entry.uid)) byUid.set(entry.uid, entry);
  }
  const memberOf = new Map<string, number[]>();
  for (const line of group.split('\n')) {
    const [name, , gidText, members] = line.split(':');
    const gid = parseId(gidText);
    if (!name || gid === undefined || !members) continue;
    for (const member of members.split(',').map((m) => m.trim()).filter((m) => m !== '')) {
      memberOf.set(member, [...(memberOf.get(member) ?? []), gid]);
    }
  }
  return { key, byName, byUid, memberOf };
}

/** `name:password:uid:gid:gecos:home:shell`; comments and NIS `+`/`-` lines are not users. */
function parsePasswdLine(line: string): PasswdEntry | undefined {
  const fields = line.trim().split(':');
  const [name, , uidText, gidText, , home] = fields;
  if (fields.length < 7 || !name || /^[#+-]/.test(name)) return undefined;
  const uid = parseId(uidText);
  const gid = parseId(gidText);
  if (uid === undefined || gid === undefined) return undefined;
  return { name, uid, gid, home: home || '/' };
}

function parseId(text: string | undefined): number | undefined {
  if (!text || !/^\d{1,10}$/.test(text)) return undefined;
  const id = Number(text);
  return id <= MAX_ID ? id : undefined;
}

function fileKey(file: string): string {
  try {
    const s = fs.statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function sortedUnique(ids: readonly number[]): number[] {
  return [...new Set(ids)].sort((a, b) => a - b);
}
