// Help texts show every default as a user would type it, in the flag's unit: the default a help
// text shows, given back to the flag, is the default (so `--takeover-hold (default 2s)`, not 2000;
// `--max-agent-ping-timeouts (default 5)`, not 5ms); a default that is not text (no attributes)
// shows nothing rather than `[object Object]`.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { shownDefault, type OptionSpec } from '../../core/options.js';
import { AGENT_OPTIONS } from '../../agent/options.js';
import { MASTER_OPTIONS } from '../../master/options.js';
import { FRAMEWORKS_OPTIONS } from '../../frameworks/host-options.js';
import { UP_OPTIONS } from '../../cli/up-command.js';
import { addSpecOptions } from '../../cli/process.js';

const SPECS: Record<string, Record<string, OptionSpec<unknown>>> = { master: MASTER_OPTIONS, agent: AGENT_OPTIONS, frameworks: FRAMEWORKS_OPTIONS, up: UP_OPTIONS };

function help(spec: Record<string, OptionSpec<unknown>>): string {
  const cmd = new Command('x');
  addSpecOptions(cmd, spec);
  return cmd.helpInformation();
}

describe('help texts show every default in the flag\u2019s unit', () => {
  for (const [name, spec] of Object.entries(SPECS)) {
    it(`agora ${name}: each shown default parses back to the default`, () => {
      for (const option of Object.values(spec)) {
        const shown = shownDefault(option);
        if (shown === undefined) {
          // Nothing shown: no default, or one with nothing in it.
          const def = option.default;
          expect(def === undefined || (typeof def === 'object' && def !== null && Object.keys(def).length === 0), option.flag).toBe(true);
          continue;
        }
        expect(option.parse(shown, option.flag), `${option.flag} (default ${shown})`).toEqual(option.default);
      }
      expect(help(spec)).not.toContain('[object Object]');
    });
  }

  it('says durations with their unit and counts without one', () => {
    const text = help(MASTER_OPTIONS).replace(/\s+/g, ' ');
    expect(text).toMatch(/--takeover-hold <value> [^-]*\(default 2s\)/);
    expect(text).toMatch(/--max-agent-ping-timeouts <value> [^-]*\(default 5\)/);
    expect(help(UP_OPTIONS)).not.toMatch(/--attributes <value>.*\(default/);
  });
});
