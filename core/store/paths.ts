// Path rules shared by both backends (ZooKeeper's): absolute, '/'-separated, no empty, '.' or '..'
// segments, no trailing '/', no NUL. Sequential names end in a 10-digit, zero-padded counter.

import { InvalidArgumentError } from '../errors.js';

export function validatePath(path: string, field = 'path'): string {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidArgumentError(field, 'must be a non-empty string');
  if (path[0] !== '/') throw new InvalidArgumentError(field, `'${path}' must start with '/'`);
  if (path === '/') return path;
  if (path.endsWith('/')) throw new InvalidArgumentError(field, `'${path}' must not end with '/'`);
  if (path.includes('\u0000')) throw new InvalidArgumentError(field, `'${path}' must not contain NUL`);
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') throw new InvalidArgumentError(field, `'${path}' has an empty segment`);
    if (segment === '.' || segment === '..') throw new InvalidArgumentError(field, `'${path}' has a relative segment`);
  }
  return path;
}

/** Normalise a chroot ('' for none, else '/a/b' without trailing slash). */
export function normaliseChroot(chroot: string | undefined): string {
  if (chroot === undefined || chroot === '' || chroot === '/') return '';
  const trimmed = chroot.endsWith('/') ? chroot.slice(0, -1) : chroot;
  return validatePath(trimmed, 'chroot');
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** Every proper ancestor of `path`, outermost first ('/a/b/c' → ['/a', '/a/b']). */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  let i = path.indexOf('/', 1);
  while (i !== -1) {
    out.push(path.slice(0, i));
    i = path.indexOf('/', i + 1);
  }
  return out;
}

export const SEQUENCE_DIGITS = 10;

export function formatSequence(n: number): string {
  return String(n).padStart(SEQUENCE_DIGITS, '0');
}

/** The counter at the end of a sequential node's name, or undefined when there is none. */
export function sequenceOf(name: string): number | undefined {
  const m = /(\d{10})$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Sort sequential node names by their counter (names without one go last, by name). */
export function bySequence(a: string, b: string): number {
  const sa = sequenceOf(a) ?? Number.MAX_SAFE_INTEGER;
  const sb = sequenceOf(b) ?? Number.MAX_SAFE_INTEGER;
  return sa - sb || (a < b ? -1 : a > b ? 1 : 0);
}
