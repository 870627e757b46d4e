// The one place that maps `AllocatorOptions.fairness` to a sorter implementation.
import type { Random } from '../../core/random.js';
import { DrfSorter } from './drf-sorter.js';
import type { ClusterTotals } from './kinds.js';
import { RandomSorter } from './random-sorter.js';
import type { Sorter } from './sorter.js';
import type { Fairness } from './types.js';

export function createSorter(fairness: Fairness, totals: ClusterTotals, random: Random): Sorter {
  return fairness === 'drf' ? new DrfSorter(totals) : new RandomSorter(totals, random);
}
