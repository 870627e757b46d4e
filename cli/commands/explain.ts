// `agora explain KIND[.field.path]`: the fields of a kind's document, with types and the comments
// of proto/agora/v1/workload.proto, as `kubectl explain`. The comments come from proto/gen/docs.ts,
// which `npm run proto:gen` writes (the runtime loader keeps no comments). A document's fields are
// its spec message's (ServiceSpec, CronJobSpec, JobSpec) plus `kind` and the read-only `status`.
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors.js';
import { kindFromAlias, namesOf } from '../../frameworks/api/kinds.js';
import type { WorkloadKind } from '../../frameworks/workload.js';
import { ENUM_DOCS, MESSAGE_DOCS, type FieldDoc, type MessageDoc } from '../../proto/gen/docs.js';

const SPECS: Record<WorkloadKind, { spec: string; status: string }> = {
  SERVICE: { spec: 'ServiceSpec', status: 'ServiceStatus' },
  CRONJOB: { spec: 'CronJobSpec', status: 'CronJobStatus' },
  JOB: { spec: 'JobSpec', status: 'JobStatus' },
};

export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description("the fields of a kind's documents, with types and descriptions (e.g. agora explain service.ports)")
    .argument('<what>', 'KIND or KIND.field.path: service, cronjob or job, e.g. cronjob.task.resources')
    .action((what: string) => {
      process.stdout.write(explain(what));
    });
}

/** The text `agora explain WHAT` prints; INVALID_ARGUMENT for an unknown kind or field. */
export function explain(what: string): string {
  const [kindText = '', ...path] = what.split('.');
  const kind = kindFromAlias(kindText);
  if (!kind) throw new InvalidArgumentError('KIND', `cannot explain '${kindText}': expected service, cronjob or job (the kinds apply takes)`);
  const document = namesOf(kind).document;
  let message: MessageDoc | undefined = documentMessage(kind);
  let field: FieldDoc | undefined;
  const walked: string[] = [];
  for (const step of path) {
    if (!message) throw new InvalidArgumentError('FIELD', `${document}.${walked.join('.')} is a ${typeText(field)}, which has no fields`);
    const found: FieldDoc | undefined = message.fields.find((f) => normal(f.name) === normal(step));
    if (!found) throw new InvalidArgumentError('FIELD', `${[document, ...walked].join('.')} has no field '${step}' (it has ${message.fields.map((f) => f.name).join(', ')})`);
    walked.push(found.name);
    field = found;
    message = found.label === 'map' ? undefined : (MESSAGE_DOCS[found.type] ?? STATUS_DOCUMENTS[found.type]);
  }
  const lines = [`KIND:     ${document}`];
  if (field) lines.push(`FIELD:    ${walked.join('.')} <${typeText(field)}>`);
  const description = [field?.comment, message?.comment].filter((c): c is string => Boolean(c));
  const values = field ? ENUM_DOCS[field.type] : undefined;
  if (values?.comment) description.push(values.comment);
  lines.push('', 'DESCRIPTION:', ...(description.length > 0 ? description : ['<empty>']).map((d) => `    ${d}`));
  if (values) {
    lines.push('', 'VALUES:', ...aligned(values.values.map((v) => [v.name, v.comment])));
  }
  if (message) {
    lines.push('', 'FIELDS:', ...aligned(message.fields.map((f) => [f.name, `<${typeText(f)}>`, f.comment])));
  }
  return `${lines.join('\n')}\n`;
}

/** The document's top level: kind, the spec's fields, and status. */
function documentMessage(kind: WorkloadKind): MessageDoc {
  const { spec, status } = SPECS[kind];
  const fields: FieldDoc[] = [
    { name: 'kind', type: 'string', label: '', comment: `${namesOf(kind).document} (any case); which framework the document goes to` },
    ...(MESSAGE_DOCS[spec]?.fields ?? []),
    { name: 'status', type: `${status}Document`, label: '', comment: `read-only (printed by get, ignored by apply): version, createdAtMs, updatedAtMs and the fields of ${status}` },
  ];
  return { comment: MESSAGE_DOCS[spec]?.comment || `A ${namesOf(kind).document} document: its ${spec} fields, with kind.`, fields };
}

const STATUS_DOCUMENTS: Record<string, MessageDoc> = Object.fromEntries(
  Object.values(SPECS).map(({ status }) => [
    `${status}Document`,
    {
      comment: `What get prints under status: (read-only; apply ignores it).`,
      fields: [
        { name: 'version', type: 'string', label: '', comment: 'the version of the spec, a new one per change' },
        { name: 'createdAtMs', type: 'int64', label: '', comment: 'when it was first applied (epoch ms)' },
        { name: 'updatedAtMs', type: 'int64', label: '', comment: 'when it last changed (epoch ms)' },
        ...(MESSAGE_DOCS[status]?.fields ?? []),
      ],
    },
  ]),
);

function normal(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

function typeText(f: FieldDoc | undefined): string {
  if (!f) return 'Object';
  const type = f.type.endsWith('Document') ? 'Object' : f.type;
  if (f.label === 'map') return `map[${f.keyType ?? 'string'}]${type}`;
  if (f.label === 'repeated') return `[]${type}`;
  return type;
}

function aligned(rows: readonly (readonly string[])[]): string[] {
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map((r) => `   ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ')}`.trimEnd());
}
