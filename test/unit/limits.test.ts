// Bounds on what users may ask for: durations (core/limits.ts), ids that must fit a directory name
// on the agent and roles (core/ids.ts). The master checks ids with the same encoding the agent
// names sandboxes with; a seeded property test holds the two together.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { safeName } from '../../agent/checkpoint.js';
import { InvalidArgumentError } from '../../core/errors.js';
import { idPathComponent, MAX_ROLE_LENGTH, NAME_MAX_BYTES, validateId, validateRole } from '../../core/ids.js';
import { checkSeconds, MAX_GRACE_SECONDS, MAX_LIFETIME_SECONDS, optionalSeconds } from '../../core/limits.js';
import { thrown } from '../support/thrown.js';

describe('checkSeconds', () => {
  it.each([0, 0.5, 5, MAX_GRACE_SECONDS])('accepts %s s of grace', (s) => {
    expect(checkSeconds(s, 'grace', { max: MAX_GRACE_SECONDS })).toBe(s);
  });

  const bad: Array<[unknown, string]> = [
    [-1, 'at least 0'],
    [-0.001, 'at least 0'],
    [MAX_GRACE_SECONDS + 1, 'at most 86400 seconds (1 day)'],
    [2_592_000, 'at most 86400'],
    [1e308, 'at most'],
    [Number.POSITIVE_INFINITY, 'finite'],
    [Number.NaN, 'finite'],
    ['5', "got '5'"],
    [null, 'got null'],
    [{}, 'an object'],
  ];
  it.each(bad)('refuses %s naming the field', (value, message) => {
    const err = thrown(() => checkSeconds(value, 'task.killGracePeriodSeconds', { max: MAX_GRACE_SECONDS }));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.field).toBe('task.killGracePeriodSeconds');
    expect(err.message).toContain(message);
  });

  it('refuses 0 when the value must be positive, and leaves absent values absent', () => {
    expect(thrown(() => checkSeconds(0, 'interval', { max: 10, positive: true })).message).toContain('greater than 0');
    expect(optionalSeconds(undefined, 'x', { max: 1 })).toBeUndefined();
    expect(optionalSeconds(null, 'x', { max: 1 })).toBeUndefined();
    expect(thrown(() => optionalSeconds(MAX_LIFETIME_SECONDS + 1, 'ttl', { max: MAX_LIFETIME_SECONDS })).message).toContain('365 days');
  });
});

describe('ids as directory names', () => {
  const idChars = fc.constantFrom(...'abcXYZ019._:-'.split(''));
  const ids = fc
    .tuple(fc.constantFrom('a', 'Z', '7'), fc.array(idChars, { maxLength: 199 }))
    .map(([first, rest]) => first + rest.join(''));

  it('encodes an id exactly as the agent names its sandbox (seeded)', () => {
    fc.assert(
      fc.property(ids, (id) => idPathComponent(id) === safeName(id)),
      { seed: 16, numRuns: 2000 },
    );
    for (const id of ['t1', 'web.v1.1a2b3c4d', 'a:b', 'x.y:z', `t${':a'.repeat(99)}b`]) expect(idPathComponent(id)).toBe(safeName(id));
  });

  it('accepts exactly the valid ids whose encoded name fits in 255 bytes (seeded)', () => {
    fc.assert(
      fc.property(ids, (id) => {
        const fits = Buffer.byteLength(idPathComponent(id)) <= NAME_MAX_BYTES;
        let accepted = true;
        try {
          validateId(id, 'taskId');
        } catch (err) {
          if (!(err instanceof InvalidArgumentError) || err.field !== 'taskId') throw err;
          accepted = false;
        }
        return accepted === fits;
      }),
      { seed: 17, numRuns: 2000 },
    );
  });

  it('says why a 200-character id with colons is refused', () => {
    const err = thrown(() => validateId(`t${':a'.repeat(99)}b`, 'tasks[0].taskId'));
    expect(err.field).toBe('tasks[0].taskId');
    expect(err.message).toContain('399 bytes once encoded');
    expect(err.message).toContain('at most 255');
  });

  it('keeps a long refused id out of the message', () => {
    const err = thrown(() => validateId('x'.repeat(100_000), 'taskId'));
    expect(err.message.length).toBeLessThan(400);
  });
});

describe('roles', () => {
  it.each(['*', 'web', 'eng/batch', 'a_b.c-d', 'r'.repeat(MAX_ROLE_LENGTH)])('accepts %s', (role) => {
    expect(validateRole(role, 'role')).toBe(role);
  });

  const bad: Array<[unknown, string]> = [
    ['r'.repeat(100_000), 'is 100000 characters long; a role is at most 255'],
    ['r'.repeat(MAX_ROLE_LENGTH + 1), 'at most 255'],
    ['', 'non-empty'],
    ['.', 'not a valid role'],
    ['..', 'not a valid role'],
    ['-x', 'not a valid role'],
    ['a//b', 'not a valid role'],
    ['a/', 'not a valid role'],
    ['a b', 'not a valid role'],
    ['é', 'not a valid role'],
    [Array.from({ length: 17 }, () => 'x').join('/'), 'more than 16 levels'],
    [42, 'non-empty role name'],
  ];
  it.each(bad)('refuses %j', (role, message) => {
    const err = thrown(() => validateRole(role, 'weights[0].role'));
    expect(err.field).toBe('weights[0].role');
    expect(err.message).toContain(message);
    expect(err.message.length).toBeLessThan(500);
  });
});
