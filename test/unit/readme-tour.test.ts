// How the README tour's runner (test/support/readme-tour.ts) reads a section: files named by the
// prose or a marker, commands joined across backslashes, comment lines dropped, following commands
// recognised — so that e2e/readme-tour.test.ts runs what a reader would type.
import { describe, expect, it } from 'vitest';
import { follows, sectionOf, tourSteps } from '../support/readme-tour.js';

const README = [
  '# Title',
  '## The tour',
  'Put this in a file, `web.yaml`:',
  '```yaml',
  'kind: Service',
  'name: web',
  '```',
  '```sh',
  'agora apply -f web.yaml     # a comment',
  '# only a comment',
  'curl -H "x: y" \\',
  '  https://localhost:5050/a   # streams with ?watch=1',
  '',
  '```',
  '<!-- file: secret.yaml -->',
  '```yaml',
  'kind: Secret',
  'name: s',
  '```',
  '```yaml',
  'kind: Job',
  '```',
  '## Next',
  '```sh',
  'not in the section',
  '```',
].join('\n');

describe('the README tour runner', () => {
  it('reads files and commands of the section, in order', () => {
    const section = sectionOf(README, 'The tour');
    expect(section.firstLine).toBe(3); // the README's own line numbers, 1-based
    const steps = tourSteps(section.text, section.firstLine);
    expect(steps).toEqual([
      { kind: 'file', name: 'web.yaml', text: 'kind: Service\nname: web\n', workload: 'web' },
      { kind: 'command', text: 'agora apply -f web.yaml     # a comment', line: 9 },
      { kind: 'command', text: 'curl -H "x: y" \\\n  https://localhost:5050/a   # streams with ?watch=1', line: 11 },
      { kind: 'file', name: 'secret.yaml', text: 'kind: Secret\nname: s\n', workload: 's' },
      { kind: 'file', name: 'tour-3.yaml', text: 'kind: Job\n', workload: undefined },
    ]);
  });

  it('throws for a missing section', () => {
    expect(() => sectionOf(README, 'Nope')).toThrow(/no section '## Nope'/);
  });

  it('knows a command that follows forever from one that ends', () => {
    expect(follows('agora logs TASK_ID -f   # followed')).toBe(true);
    expect(follows('curl https://h/api/v1/services/web/endpoints?watch=1')).toBe(true);
    expect(follows('agora apply -f web.yaml')).toBe(false);
    expect(follows('agora acl policy apply -f team-a.yaml')).toBe(false);
    expect(follows('curl https://h/endpoints   # (?watch=1 streams changes)')).toBe(false);
  });
});
