// A role's quota, validated once and kept as plain milli-unit maps for the allocation pass.
import { InvalidArgumentError } from '../../core/errors.js';
import type { Resources } from '../../core/resources.js';
import type { Quota } from './types.js';

export interface QuotaSpec {
  readonly quota: Quota;
  /** Scalar name → guaranteed milli-units (only non-zero entries). */
  readonly guarantee: ReadonlyMap<string, number>;
  /** Scalar name → limit in milli-units; kinds not named are unlimited; undefined = no limit. */
  readonly limit: ReadonlyMap<string, number> | undefined;
}

export function compileQuota(quota: Quota): QuotaSpec {
  const guarantee = scalarMap(quota.guarantee, 'quota.guarantee');
  const limit = quota.limit === undefined ? undefined : scalarMap(quota.limit, 'quota.limit');
  if (limit !== undefined) {
    for (const [name, g] of guarantee) {
      const l = limit.get(name);
      if (l !== undefined && l < g) {
        throw new InvalidArgumentError(`quota.limit.${name}`, `limit ${l / 1000} is below the guarantee ${g / 1000}`);
      }
    }
  }
  return { quota, guarantee, limit };
}

function scalarMap(resources: Resources, field: string): Map<string, number> {
  if (resources === undefined || resources === null || typeof resources.scalars !== 'function') {
    throw new InvalidArgumentError(field, 'must be a Resources value');
  }
  for (const r of resources.toList()) {
    if (r.type !== 'scalar') throw new InvalidArgumentError(`${field}.${r.name}`, 'quota takes scalar resources only');
  }
  const out = new Map<string, number>();
  for (const [name, units] of resources.scalars()) out.set(name, Math.round(units * 1000));
  return out;
}
