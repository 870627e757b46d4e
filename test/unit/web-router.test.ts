// The dashboard's hash routes: parts decoded, parameters read, and a link that is not valid
// percent-encoding read as written rather than throwing (which left the whole page blank).
import { describe, expect, it } from 'vitest';
import { href, parseRoute } from '../../web/route.js';

describe('the dashboard routes', () => {
  it('reads parts and parameters, and reads back what href wrote', () => {
    expect(parseRoute('#/services/web').parts).toEqual(['services', 'web']);
    expect(parseRoute('').parts).toEqual([]);
    const route = parseRoute(href(['tasks', 'fw 1', 'a/b'], { state: 'TASK_RUNNING', q: '' }));
    expect(route.parts).toEqual(['tasks', 'fw 1', 'a/b']);
    expect(route.params.get('state')).toBe('TASK_RUNNING');
    expect(route.params.has('q')).toBe(false);
  });

  it('keeps a part that is not valid percent-encoding as written', () => {
    expect(parseRoute('#/services/%E0%A4%A').parts).toEqual(['services', '%E0%A4%A']);
    expect(parseRoute('#/jobs/50%/x%41').parts).toEqual(['jobs', '50%', 'xA']);
  });
});
