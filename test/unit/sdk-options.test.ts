// The driver's options: with no logger given, errors still reach stderr — a handler that throws,
// or the master refusing the framework, must never pass unseen.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { compileDriverOptions } from '../../sdk/options.js';

describe('driver options', () => {
  it('logs errors by default, and nothing below them', () => {
    const options = compileDriverOptions({ master: '127.0.0.1:5051', framework: { name: 'f' } });
    expect(options.logger.level).toBe('error');
    expect(options.logger.isLevelEnabled('error')).toBe(true);
    expect(options.logger.isLevelEnabled('warn')).toBe(false);
  });

  it('uses the logger it is given', () => {
    const logger = silentLogger();
    expect(compileDriverOptions({ master: '127.0.0.1:5051', framework: { name: 'f' }, logger }).logger).toBe(logger);
  });
});
