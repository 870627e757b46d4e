// User YAML is measured before it is parsed (core/yaml.ts): a document nested deeper than the
// limit is refused naming the field, where the parser would recurse until the stack overflows.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../core/errors.js';
import { MAX_YAML_FLOW_DEPTH, parseUserYaml, yamlFlowDepth } from '../../core/yaml.js';
import { parseDocument } from '../../frameworks/api/document.js';
import { thrown } from '../support/thrown.js';

const flow = (depth: number): string => `a: ${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('yamlFlowDepth', () => {
  it('counts flow sequences and mappings, and stops counting past the limit', () => {
    expect(yamlFlowDepth('a: 1')).toBe(0);
    expect(yamlFlowDepth('a: [1, {b: [2]}]\nc: [3]')).toBe(3);
    expect(yamlFlowDepth(flow(200_000), 10)).toBe(11);
  });

  it('does not count brackets inside quoted strings or comments', () => {
    const brackets = '['.repeat(500);
    expect(yamlFlowDepth(`a: "${brackets}"\nb: '${brackets}' # ${brackets}`)).toBe(0);
  });
});

describe('parseUserYaml', () => {
  it(`parses a document nested ${MAX_YAML_FLOW_DEPTH} levels deep`, () => {
    const value = parseUserYaml(flow(MAX_YAML_FLOW_DEPTH), 'document') as { a: unknown };
    let depth = 0;
    for (let v: unknown = value.a; Array.isArray(v); v = v[0]) depth += 1;
    expect(depth).toBe(MAX_YAML_FLOW_DEPTH);
  });

  it.each([
    ['a deep flow sequence', flow(MAX_YAML_FLOW_DEPTH + 1)],
    ['200,000 open brackets', '['.repeat(200_000)],
    ['a deep JSON object', `${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}`],
  ])('refuses %s naming the field, instead of overflowing the stack', (_name, text) => {
    const err = thrown(() => parseUserYaml(text, 'body'));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe('body');
    expect((err as Error).message).toContain(`deeper than ${MAX_YAML_FLOW_DEPTH} levels`);
  });

  it('is what the Jobs API parses documents with', () => {
    const err = thrown(() => parseDocument(flow(200_000)));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe('document');
  });
});
