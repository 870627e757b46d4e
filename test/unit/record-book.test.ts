// RecordBook (frameworks/record-book.ts), the part of the three books that is the same: one key per
// record, written only when changed, compare-and-set (a stale instance's write is UNAVAILABLE), the
// task → record index kept through puts and removes, the records read back on load, need() and
// sorted() for the API.
import { afterEach, describe, expect, it } from 'vitest';
import { FrameworkState } from '../../sdk/state.js';
import { RecordBook, type RecordKind } from '../../frameworks/record-book.js';

interface Thing {
  readonly name: string;
  readonly tasks: readonly string[];
}

const THING: RecordKind<Thing> = { dir: 'things', noun: 'thing', framework: 'test', resource: 'thing', taskIds: (r) => r.tasks };

class ThingBook extends RecordBook<Thing> {
  readonly forgotten: string[] = [];

  private constructor(state: FrameworkState) {
    super(state, THING);
  }

  static async load(state: FrameworkState): Promise<ThingBook> {
    const book = new ThingBook(state);
    await book.loadRecords();
    return book;
  }

  protected override forget(taskId: string): void {
    super.forget(taskId);
    this.forgotten.push(taskId);
  }
}

const opened: FrameworkState[] = [];
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((s) => s.store.close()));
});

async function state(): Promise<FrameworkState> {
  const s = await FrameworkState.open('memory:', 'default', 'agora-test');
  opened.push(s);
  return s;
}

describe('RecordBook', () => {
  it('indexes tasks through put and remove, and reads the records back', async () => {
    const s = await state();
    const book = await ThingBook.load(s);
    await book.put({ name: 'a', tasks: ['t1', 't2'] });
    await book.put({ name: 'a', tasks: ['t2', 't3'] });
    expect([...book.owner]).toEqual([
      ['t2', 'a'],
      ['t3', 'a'],
    ]);
    expect(book.forgotten).toEqual(['t1']);
    expect(book.get('a')).toEqual({ name: 'a', tasks: ['t2', 't3'] });
    await book.put({ name: 'B', tasks: [] });
    expect(book.sorted().map((r) => r.name)).toEqual(['B', 'a']);
    expect(book.need('a').name).toBe('a');
    expect(() => book.need('zz')).toThrow(expect.objectContaining({ code: 'AGORA_NOT_FOUND', message: "thing 'zz' not found" }));
    await book.remove('B');
    const again = await ThingBook.load(s);
    expect(again.get('a')).toEqual({ name: 'a', tasks: ['t2', 't3'] });
    expect(again.owner.get('t3')).toBe('a');
    expect(await book.remove('a')).toEqual({ name: 'a', tasks: ['t2', 't3'] });
    expect(book.owner.size).toBe(0);
    expect(await book.remove('a')).toBeUndefined();
    expect(await s.get('things/a')).toBeUndefined();
  });

  it('a stale instance cannot overwrite a newer one (UNAVAILABLE); an unchanged record is not written', async () => {
    const s = await state();
    const a = await ThingBook.load(s);
    await a.put({ name: 'x', tasks: [] });
    const b = await ThingBook.load(new FrameworkState(s.store, 'default', 'agora-test'));
    await b.put({ name: 'x', tasks: ['t9'] });
    await a.put({ name: 'x', tasks: [] }); // unchanged for a: no write, no conflict
    await expect(a.put({ name: 'x', tasks: ['t1'] })).rejects.toMatchObject({
      code: 'AGORA_UNAVAILABLE',
      message: 'thing x was changed by another instance of the test framework; this one is stale',
    });
    const fresh = await ThingBook.load(s);
    await expect(fresh.put({ name: 'y', tasks: [] })).resolves.toBeUndefined();
    await expect(a.put({ name: 'y', tasks: ['t2'] })).rejects.toMatchObject({ code: 'AGORA_UNAVAILABLE' });
  });
  it('a stale instance cannot delete what a newer one wrote (UNAVAILABLE); the record stays', async () => {
    const s = await state();
    const a = await ThingBook.load(s);
    await a.put({ name: 'x', tasks: ['t1'] });
    const b = await ThingBook.load(new FrameworkState(s.store, 'default', 'agora-test'));
    await b.put({ name: 'x', tasks: ['t9'] });
    await expect(a.remove('x')).rejects.toMatchObject({ code: 'AGORA_UNAVAILABLE', message: 'thing x was changed by another instance of the test framework; this one is stale' });
    expect(a.need('x')).toEqual({ name: 'x', tasks: ['t1'] }); // the stale book is unchanged too
    expect((await ThingBook.load(s)).need('x')).toEqual({ name: 'x', tasks: ['t9'] });
    await expect(b.remove('x')).resolves.toEqual({ name: 'x', tasks: ['t9'] });
    expect((await ThingBook.load(s)).records.has('x')).toBe(false);
  });

  it('a write that lands between the version check and the delete is not lost', async () => {
    const s = await state();
    const a = await ThingBook.load(s);
    await a.put({ name: 'x', tasks: ['t1'] });
    const b = await ThingBook.load(new FrameworkState(s.store, 'default', 'agora-test'));
    // The other instance writes right after `a` has looked at the record's version.
    const racing = new Proxy(s.store, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (prop !== 'exists') return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        return async (...args: unknown[]) => {
          const stat: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          await b.put({ name: 'x', tasks: ['t9'] });
          return stat;
        };
      },
    });
    const stale = await ThingBook.load(new FrameworkState(racing, 'default', 'agora-test'));
    await expect(stale.remove('x')).rejects.toMatchObject({ code: 'AGORA_UNAVAILABLE' });
    expect((await ThingBook.load(s)).need('x')).toEqual({ name: 'x', tasks: ['t9'] });
  });
});
