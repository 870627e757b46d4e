// Documents → specs: the text people submit (YAML or JSON; JSON is YAML too) becomes one object
// with a `kind`, routed to the controller that owns that kind. Each controller validates its own
// spec (services: frameworks/services/spec.ts); this module only parses and dispatches.
//
//   text ──► parseDocument ──► { kind: 'SERVICE' | 'CRONJOB' | 'JOB', spec } ──► controller.apply(spec)
//                                                           └─► validateSpec(kind, spec) (dry checks)
//
// Adding a kind (CronJob, Job): give it a validator in VALIDATORS below; KIND_NAMES already knows
// its document name.
import { parseAllDocuments } from 'yaml';
import { InvalidArgumentError } from '../core/errors.js';
import { parseServiceSpec } from './services/spec.js';
import type { WorkloadKind } from './workload.js';

export type DocumentFormat = 'auto' | 'yaml' | 'json';

export interface ParsedDocument {
  readonly kind: WorkloadKind;
  /** The document without `kind`, as the kind's controller takes it. */
  readonly spec: Record<string, unknown>;
}

/** Document `kind` names (any case) → the kind. */
export const KIND_NAMES: Readonly<Record<string, WorkloadKind>> = Object.freeze({
  service: 'SERVICE',
  cronjob: 'CRONJOB',
  job: 'JOB',
});

/** A validator per kind: returns the spec's name or throws InvalidArgumentError naming the field. */
export type SpecValidator = (spec: Record<string, unknown>) => { readonly name: string };

const VALIDATORS: Partial<Record<WorkloadKind, SpecValidator>> = {
  SERVICE: parseServiceSpec,
  // CRONJOB: parseCronJobSpec,  — frameworks/cron/, next
  // JOB: parseJobSpec,          — frameworks/batch/, next
};

// Documents beyond this are refused before parsing: nobody writes a 1 MiB service.
const MAX_DOCUMENT_BYTES = 1024 * 1024;

/** Parse one YAML or JSON document into its kind and spec. */
export function parseDocument(text: string, format: DocumentFormat = 'auto'): ParsedDocument {
  if (typeof text !== 'string' || text.trim() === '') throw new InvalidArgumentError('document', 'is empty');
  if (Buffer.byteLength(text) > MAX_DOCUMENT_BYTES) throw new InvalidArgumentError('document', `is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  const value = format === 'json' ? parseJson(text) : parseYaml(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError('document', 'must be one object with a kind, e.g. kind: Service');
  }
  const { kind, ...spec } = value as Record<string, unknown>;
  return { kind: kindOf(kind), spec };
}

/** `Service`, `service`, `SERVICE`, `CronJob`, `Job` (or the proto enum number) → the kind. */
export function kindOf(value: unknown, field = 'kind'): WorkloadKind {
  if (value === undefined || value === null || value === '') throw new InvalidArgumentError(field, 'is required: Service, CronJob or Job');
  if (typeof value === 'number') {
    const byNumber = (['SERVICE', 'CRONJOB', 'JOB'] as const)[value - 1];
    if (byNumber !== undefined) return byNumber;
  }
  const known = typeof value === 'string' ? KIND_NAMES[value.trim().toLowerCase()] : undefined;
  if (known === undefined) throw new InvalidArgumentError(field, `unknown kind '${String(value)}' (expected Service, CronJob or Job)`);
  return known;
}

/** Validate a spec of `kind` without storing it (the controller validates again on apply). */
export function validateSpec(kind: WorkloadKind, spec: Record<string, unknown>): { readonly name: string } {
  const validator = VALIDATORS[kind];
  if (validator === undefined) throw new InvalidArgumentError('kind', `${kind} specs are not supported yet`);
  return validator(spec);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidArgumentError('document', `is not valid JSON: ${(err as Error).message}`);
  }
}

function parseYaml(text: string): unknown {
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
  if (!Array.isArray(docs)) throw new InvalidArgumentError('document', 'is not valid YAML');
  const real = docs.filter((d) => d.contents !== null || d.errors.length > 0);
  if (real.length !== 1) throw new InvalidArgumentError('document', `must hold exactly one document, found ${real.length}`);
  const doc = real[0]!;
  const error = doc.errors[0];
  if (error !== undefined) throw new InvalidArgumentError('document', `is not valid YAML: ${error.message.split('\n')[0]}`);
  return doc.toJS({ maxAliasCount: 100 }) as unknown;
}
