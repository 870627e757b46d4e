// A document's spec as the framework would store it — validated, defaults filled in, enums in
// their proto spelling — by the same pure functions the frameworks run (frameworks/*/spec.ts and
// views.ts), so `agora diff` compares like with like: a default the file leaves out, or
// `Forbid` for `FORBID`, is no difference. Whether anything changes at all is still the Jobs
// API's dry run; this only shapes the text of the diff.
import { jobSpecToWire } from '../../frameworks/batch/views.js';
import { validateJobSpec } from '../../frameworks/batch/spec.js';
import { specToWire as cronSpecToWire } from '../../frameworks/cron/views.js';
import { validateCronJobSpec } from '../../frameworks/cron/spec.js';
import { fromObject } from '../../frameworks/api/document.js';
import { namesOf } from '../../frameworks/api/kinds.js';
import { parseServiceSpec, specToWire as serviceSpecToWire } from '../../frameworks/services/spec.js';
import type { Doc } from './workload-documents.js';

/** `doc` (kind, spec fields, maybe status) → kind and the spec in wire form, as `get` would print it. */
export function normalizedDocument(doc: Doc): Doc {
  const { kind, spec } = fromObject(doc);
  const wire = kind === 'SERVICE' ? serviceSpecToWire(parseServiceSpec(spec)) : kind === 'CRONJOB' ? cronSpecToWire(validateCronJobSpec(spec)) : jobSpecToWire(validateJobSpec(spec));
  return { kind: namesOf(kind).document, ...(wire as unknown as Doc) };
}
