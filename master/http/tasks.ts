// GET /api/v1/tasks (the list, with its filters) and GET /api/v1/frameworks/:frameworkId/tasks/:taskId
// (one task with its status history). A framework's tasks are seen by its own principal and by
// holders of frameworks.view; a task the caller may not see is NOT_FOUND, as if it did not exist.
//
// Filters of the list, all optional and combined with AND:
//   frameworkId, agentId, state     exact
//   label=KEY=VALUE                 repeatable; every one must match. The built-in frameworks label
//                                   their tasks agora.service / agora.cronjob / agora.job = <name>:
//                                   the dashboard's "workload" filter is one of those.
//   active=1                        live tasks only (not terminal); active=0 or absent: all
//   q=TEXT                          substring of the task's id or name (at most MAX_Q characters)
import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { queryInt, type HttpServer } from '../../core/http.js';
import { isTerminal, parseTaskState } from '../../core/task-state.js';
import { principalOf } from '../../core/security/edge.js';
import { may, type Principal } from '../../core/security/principal.js';
import { ownsOr } from '../frameworks.js';
import type { FrameworkRecord, TaskRecord } from '../model.js';
import type { MasterState } from '../state.js';
import { allTasks, taskJson } from './views.js';

const DEFAULT_TASK_LIMIT = 100;
const MAX_TASK_LIMIT = 10_000;
export const MAX_Q = 256;
const MAX_LABELS = 16;

type Query = Record<string, unknown>;

export function registerTaskRoutes(app: HttpServer, state: MasterState): void {
  app.get('/api/v1/tasks', async (req) => {
    const principal = principalOf(req);
    const query = req.query as Query;
    const limit = queryInt(query, 'limit', DEFAULT_TASK_LIMIT, MAX_TASK_LIMIT);
    const offset = queryInt(query, 'offset', 0);
    const matches = taskFilter(query);
    const seeAll = may(principal, 'frameworks.view');
    const visible = (id: string): boolean => seeAll || canViewTasks(principal, state.framework(id));
    const matching = allTasks(state).filter((t) => matches(t) && visible(t.frameworkId));
    return { tasks: matching.slice(offset, offset + limit).map(taskJson), total: matching.length, offset, limit };
  });

  app.get<{ Params: { frameworkId: string; taskId: string } }>('/api/v1/frameworks/:frameworkId/tasks/:taskId', async (req) => {
    const task = visibleTask(state, principalOf(req), req.params.frameworkId, req.params.taskId);
    return { task: { ...taskJson(task), statuses: task.statuses ?? [], statusesDropped: task.statusesDropped ?? 0 } };
  });
}

/** May `principal` see this framework's tasks (its own, or with frameworks.view)? */
export function canViewTasks(principal: Principal, framework: Pick<FrameworkRecord, 'principal'> | undefined): boolean {
  return may(principal, 'frameworks.view') || (framework !== undefined && ownsOr(principal, framework));
}

/** The task (live, else the latest completed one with that id) when the caller may see it; else NOT_FOUND. */
export function visibleTask(state: MasterState, principal: Principal, frameworkId: string, taskId: string): TaskRecord {
  const task = state.task(frameworkId, taskId) ?? state.completedTask(frameworkId, taskId);
  if (!task || !canViewTasks(principal, state.framework(frameworkId))) throw new NotFoundError('task', `${frameworkId}/${taskId}`);
  return task;
}

/** The list's filters as one predicate; a bad value is INVALID_ARGUMENT naming its parameter. */
export function taskFilter(query: Query): (task: TaskRecord) => boolean {
  const frameworkId = queryString(query, 'frameworkId');
  const agentId = queryString(query, 'agentId');
  const stateRaw = queryString(query, 'state');
  const wanted = stateRaw === undefined ? undefined : parseTaskState(stateRaw, 'state');
  const labels = labelFilters(query['label']);
  const active = queryFlag(query, 'active');
  const q = queryString(query, 'q');
  if (q !== undefined && q.length > MAX_Q) throw new InvalidArgumentError('q', `at most ${MAX_Q} characters, got ${q.length}`);
  return (t) =>
    (frameworkId === undefined || t.frameworkId === frameworkId) &&
    (agentId === undefined || t.agentId === agentId) &&
    (wanted === undefined || t.state === wanted) &&
    (!active || !isTerminal(t.state)) &&
    (q === undefined || t.taskId.includes(q) || (t.info.name ?? '').includes(q)) &&
    labels.every(([k, v]) => t.info.labels?.[k] === v);
}

function labelFilters(raw: unknown): [string, string][] {
  if (raw === undefined || raw === '') return [];
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length > MAX_LABELS) throw new InvalidArgumentError('label', `at most ${MAX_LABELS} label filters, got ${list.length}`);
  return list.map((item) => {
    const text = typeof item === 'string' ? item : '';
    const eq = text.indexOf('=');
    if (eq <= 0 || text.length > 2 * MAX_Q) throw new InvalidArgumentError('label', `expected KEY=VALUE (at most ${2 * MAX_Q} characters), got '${text.slice(0, 64)}'`);
    return [text.slice(0, eq), text.slice(eq + 1)];
  });
}

function queryFlag(query: Query, name: string): boolean {
  const raw = queryString(query, name);
  if (raw === undefined || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new InvalidArgumentError(name, `expected 1 or 0, got '${raw.slice(0, 64)}'`);
}

function queryString(query: Query, name: string): string | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw new InvalidArgumentError(name, 'give it once');
  return raw;
}
