// The allocator's public face: `createAllocator(options)` and the contract types.
import { InvalidArgumentError } from '../../core/errors.js';
import { HierarchicalAllocator } from './allocator.js';
import type { Allocator, AllocatorOptions } from './types.js';

export type * from './types.js';
export type { Sorter } from './sorter.js';
export { DrfSorter } from './drf-sorter.js';
export { RandomSorter } from './random-sorter.js';
export { createSorter } from './sorters.js';

export function createAllocator(options: AllocatorOptions): Allocator {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'must be an object');
  if (options.fairness !== 'drf' && options.fairness !== 'random') {
    throw new InvalidArgumentError('options.fairness', `must be 'drf' or 'random', got '${String(options.fairness)}'`);
  }
  if (!Number.isInteger(options.seed)) throw new InvalidArgumentError('options.seed', `must be an integer, got ${String(options.seed)}`);
  return new HierarchicalAllocator(options);
}
