// Metrics rebuilt at each scrape: what is there now is served, what is gone is gone, and a counter
// carries the value another part counted.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerScraped } from '../../core/scraped-metrics.js';

describe('registerScraped', () => {
  it('serves the series there are at each scrape, and drops those whose object is gone', async () => {
    const registry = new Registry();
    let tasks = new Map([['a', 2], ['b', 5]]);
    registerScraped([registry], { name: 'x_things', help: 'things', labelNames: ['task'], fill: (put) => tasks.forEach((v, task) => put({ task }, v)) });
    expect(await registry.metrics()).toContain('x_things{task="b"} 5');
    tasks = new Map([['a', 3]]);
    const text = await registry.metrics();
    expect(text).toContain('x_things{task="a"} 3');
    expect(text).not.toContain('task="b"');
    expect(text).toContain('# TYPE x_things gauge');
  });

  it('makes a counter that reads what was counted, not a sum over scrapes', async () => {
    const registry = new Registry();
    const counted = { n: 4 };
    registerScraped([registry], { kind: 'counter', name: 'x_runs_total', help: 'runs', fill: (put) => put({}, counted.n) });
    expect(await registry.metrics()).toContain('x_runs_total 4');
    counted.n = 6;
    const text = await registry.metrics();
    expect(text).toContain('x_runs_total 6');
    expect(text).toContain('# TYPE x_runs_total counter');
  });
});
