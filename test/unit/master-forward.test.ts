// What the master's forwarding decides before it asks a peer: the path it asks for is the one the
// route matched, and which answers stay open (no body timeout) as long as the caller listens.
import { describe, expect, it } from 'vitest';
import { checkPathKept, followsLog } from '../../master/http/forward.js';
import { streamsThrough } from '../../master/http/jobs-forward.js';

describe('checkPathKept', () => {
  it('lets a path through that a URL client sends as it is', () => {
    for (const url of ['https://10.0.0.1:5052/api/v1/services/web', 'https://h:1/api/v1/tasks/a%2Fb/logs?follow=1&x=..', 'http://h:1/api/v1/jobs/j-1.2_x~', 'https://h:1']) {
      expect(() => checkPathKept(url), url).not.toThrow();
    }
  });

  it('refuses dot segments, plain, percent-encoded or behind a backslash, naming the path', () => {
    for (const path of ['/api/v1/services/../../metrics', '/api/v1/services/%2e%2E/x', '/api/v1/services/.', '/api/v1/jobs/..\\..\\metrics', '/api/v1/./watch']) {
      expect(() => checkPathKept(`https://h:1${path}`), path).toThrow(/'\.' or '\.\.' segments/);
    }
  });
});

describe('which forwarded answers stream', () => {
  it('reads the follow flag as the agent and the Jobs API do', () => {
    for (const follow of ['', '1', 'true']) expect(followsLog({ follow }), follow).toBe(true);
    for (const query of [{}, { follow: '0' }, { follow: 'false' }, { follow: ['1', '1'] }, undefined]) expect(followsLog(query)).toBe(false);
  });

  it('keeps the watch and a followed log open, bare ?follow included, and nothing else', () => {
    expect(streamsThrough('/api/v1/watch', {})).toBe(true);
    expect(streamsThrough('/api/v1/tasks/:id/logs', { follow: '' })).toBe(true);
    expect(streamsThrough('/api/v1/tasks/:id/logs', { follow: 'true' })).toBe(true);
    expect(streamsThrough('/api/v1/tasks/:id/logs', {})).toBe(false);
    expect(streamsThrough('/api/v1/services/*', { follow: '1' })).toBe(false);
  });
});
