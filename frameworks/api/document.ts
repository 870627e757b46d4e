// Specs as the Jobs API receives them → what a controller's apply() takes: the document's fields
// in proto3 JSON form (camelCase), without `kind`, which only routes it, nor `status`, which is
// read-only (what `get -o yaml` prints beside the spec) and ignored.
//
//   document text (YAML or JSON) ─ parseDocument ─┐
//   structured ServiceSpec / CronJobSpec / JobSpec ┴─ { kind, spec } ─► controller.apply(spec)
//
// A structured message arrives with every absent scalar filled in by the loader; specFromWire
// drops the proto3 defaults again (as proto3 JSON does), keeping fields declared `optional` that
// the client set, so a controller sees one form whichever way the spec came.
import { YAMLParseError } from 'yaml';
import { InvalidArgumentError } from '../../core/errors.js';
import { parseUserYaml } from '../../core/yaml.js';
import { packageDefinition } from '../../proto/index.js';
import type { WorkloadKind } from '../workload.js';
import { kindFromDocument } from './kinds.js';

export type DocumentFormat = 'FORMAT_AUTO' | 'YAML' | 'JSON';

export interface ParsedSpec {
  readonly kind: WorkloadKind;
  readonly spec: Record<string, unknown>;
}

/** Largest document accepted (the HTTP edge limits bodies too). */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

export function parseDocument(text: string, format: DocumentFormat = 'FORMAT_AUTO', expected?: WorkloadKind): ParsedSpec {
  return fromObject(readDocument(text, format), expected);
}

/** The document's text parsed (YAML or JSON), its kind not looked at yet. */
export function readDocument(text: string, format: DocumentFormat = 'FORMAT_AUTO'): unknown {
  if (text.trim() === '') throw new InvalidArgumentError('document', 'is empty');
  if (Buffer.byteLength(text) > MAX_DOCUMENT_BYTES) throw new InvalidArgumentError('document', `is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  return parseText(text, format);
}

/** An already parsed document (an HTTP JSON body); `expected` is the kind the route serves. */
export function fromObject(value: unknown, expected?: WorkloadKind): ParsedSpec {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError('document', 'must be one object (a mapping) with `kind` and the fields of its spec');
  }
  // `status` is what `agora get -o yaml` prints beside the spec (version, times, the framework's
  // status): read-only, so a document printed by get applies back unchanged.
  const { kind: rawKind, status, ...spec } = value as Record<string, unknown>;
  if (status !== undefined && status !== null && (typeof status !== 'object' || Array.isArray(status))) {
    throw new InvalidArgumentError('status', 'is read-only and ignored, but must be a mapping when given (as `agora get -o yaml` prints it)');
  }
  const kind = rawKind === undefined && expected !== undefined ? expected : kindFromDocument(rawKind);
  if (expected !== undefined && kind !== expected) {
    throw new InvalidArgumentError('kind', `is ${String(rawKind)}, but this endpoint takes ${expected.toLowerCase()} specs`);
  }
  return { kind, spec };
}

function parseText(text: string, format: DocumentFormat): unknown {
  if (format === 'JSON') {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new InvalidArgumentError('document', `is not valid JSON: ${(err as Error).message}`);
    }
  }
  try {
    return parseUserYaml(text, 'document');
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    if (err instanceof YAMLParseError) {
      const where = err.linePos?.[0] ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
      throw new InvalidArgumentError('document', `is not valid YAML${where}: ${err.message.split('\n')[0] ?? err.message}`);
    }
    throw new InvalidArgumentError('document', `cannot be parsed: ${(err as Error).message}`);
  }
}

// ---- structured specs ---------------------------------------------------------------------

const WIRE_TYPES: Record<WorkloadKind, string> = { SERVICE: 'ServiceSpec', CRONJOB: 'CronJobSpec', JOB: 'JobSpec' };

interface FieldDescriptor {
  readonly name: string;
  readonly label: string;
  readonly type: string;
  readonly typeName: string;
}
interface MessageDescriptor {
  readonly field: readonly FieldDescriptor[];
  readonly nestedType: readonly { readonly name: string }[];
}

function descriptor(typeName: string): { message?: MessageDescriptor; enumZero?: string } {
  const entry = packageDefinition[`agora.v1.${typeName}`] as { format?: string; type?: unknown } | undefined;
  if (!entry?.format) return {};
  if (entry.format.includes('EnumDescriptorProto')) {
    const values = (entry.type as { value: { name: string; number: number }[] }).value;
    return { enumZero: values.find((v) => v.number === 0)?.name ?? '' };
  }
  return { message: entry.type as MessageDescriptor };
}

/** A structured spec as the loader delivered it → its proto3 JSON form. */
export function specFromWire(kind: WorkloadKind, message: Record<string, unknown>): Record<string, unknown> {
  return messageToJson(WIRE_TYPES[kind], message);
}

function messageToJson(typeName: string, value: Record<string, unknown>): Record<string, unknown> {
  const message = descriptor(typeName).message;
  if (!message) return { ...value };
  const maps = new Set(message.nestedType.map((t) => t.name));
  const out: Record<string, unknown> = {};
  for (const field of message.field) {
    const v = value[field.name];
    if (v === undefined || v === null) continue;
    const present = value[`_${field.name}`] === field.name;
    const json = fieldToJson(field, v, maps.has(field.typeName), present);
    if (json !== undefined) out[field.name] = json;
  }
  return out;
}

function fieldToJson(field: FieldDescriptor, v: unknown, isMap: boolean, present: boolean): unknown {
  if (isMap) return Object.keys(v as object).length === 0 ? undefined : { ...(v as object) };
  if (field.label === 'LABEL_REPEATED') {
    const list = v as unknown[];
    if (list.length === 0) return undefined;
    return field.type === 'TYPE_MESSAGE' ? list.map((item) => messageToJson(field.typeName, item as Record<string, unknown>)) : [...list];
  }
  if (field.type === 'TYPE_MESSAGE') return messageToJson(field.typeName, v as Record<string, unknown>);
  if (present) return v;
  if (field.type === 'TYPE_ENUM') return v === descriptor(field.typeName).enumZero || v === 0 ? undefined : v;
  return v === 0 || v === '' || v === false ? undefined : v;
}
