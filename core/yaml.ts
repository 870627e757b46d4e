// YAML from users, parsed without letting its shape stall the process.
//
// The `yaml` library parses nested flow collections recursively: `a: [[[[…]]]]` 200,000 deep
// ends in a stack overflow after ~0.7 s of work on one core, longer under load, and the event
// loop serves nobody meanwhile. Its lexer is a flat state machine, so the nesting is measured
// there first — stopping at the first token past the limit — and a deeper document is refused
// before the parser sees it. Quoted scalars are single tokens, so brackets inside strings do not
// count. Block nesting costs its indentation in bytes, so the body limit already bounds it.
import { Lexer, parse } from 'yaml';
import { InvalidArgumentError } from './errors.js';

/** How deep flow collections (`[…]`, `{…}`) may nest; specs and policies need a handful. */
export const MAX_YAML_FLOW_DEPTH = 64;

/** The deepest flow nesting of `text`, counting no further than `limit + 1`. */
export function yamlFlowDepth(text: string, limit = MAX_YAML_FLOW_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      depth += 1;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) break;
    } else if ((token === ']' || token === '}') && depth > 0) {
      depth -= 1;
    }
  }
  return deepest;
}

/**
 * Parse user YAML (JSON included). Throws InvalidArgumentError naming `field` for a document
 * nested deeper than MAX_YAML_FLOW_DEPTH or one that does not parse.
 */
export function parseUserYaml(text: string, field: string): unknown {
  if (yamlFlowDepth(text) > MAX_YAML_FLOW_DEPTH) {
    throw new InvalidArgumentError(field, `nests collections deeper than ${MAX_YAML_FLOW_DEPTH} levels`);
  }
  return parse(text, { prettyErrors: false, uniqueKeys: true, maxAliasCount: 100 }) as unknown;
}
