// The sections of a service's page: the actions, the deployment in progress, the instances with
// their tasks, endpoints, versions and recent deployments.
import { useEffect, useState } from 'preact/hooks';
import { pathOf, postJson, type Session } from '../api.js';
import { ActionButton, Badge, Section, StateBadge, Table, Time } from '../components/ui.js';
import { Flag, mayWrite, portsText, ReadOnlyNote, TaskLink } from '../components/workload-ui.js';
import { canaryActions, currentStepText, num, phaseText, progressPercent, rollbackTargets, type Deployment, type ServiceStatus, type Workload } from './workload-model.js';

const act = (name: string, action: string, body: unknown = {}): Promise<unknown> => postJson(`${pathOf('/api/v1/services', name)}/${action}`, body);

export function ServiceActions({ w, deployment, who, onDone }: { w: Workload; deployment: Deployment | undefined; who: Session; onDone: () => void }) {
  const ro = !mayWrite(who);
  const name = String(w.name ?? '');
  const wanted = num(w.serviceStatus?.instances);
  const [instances, setInstances] = useState(String(wanted));
  // The wanted count changed (a scale here or elsewhere, an apply): the input follows it.
  useEffect(() => setInstances(String(wanted)), [wanted]);
  const targets = rollbackTargets(w);
  const [target, setTarget] = useState('');
  const toVersion = target || targets[0] || '';
  const canary = canaryActions(deployment);
  const n = Number(instances);
  const scaleOk = instances.trim() !== '' && Number.isInteger(n) && n >= 0;
  return (
    <div class="card actions-bar">
      <label class="inline">
        Instances
        <input type="number" min={0} step={1} value={instances} disabled={ro} data-testid="scale-input" onInput={(e) => setInstances((e.target as HTMLInputElement).value)} />
      </label>
      <ActionButton
        label="Scale"
        testId="scale"
        disabled={ro || !scaleOk || n === wanted}
        ask={{ title: `Scale ${name}?`, body: <p>{`From ${wanted} to ${instances} instance${n === 1 ? '' : 's'}.${n < wanted ? ' Instances will be killed.' : ''}`}</p>, confirm: 'Scale', danger: n < wanted }}
        run={() => act(name, 'scale', { instances: n })}
        onDone={onDone}
      />
      <ActionButton label="Restart" testId="restart" disabled={ro} ask={{ title: `Restart ${name}?`, body: <p>Every instance is replaced by a fresh one of the same version, a few at a time.</p>, confirm: 'Restart', danger: true }} run={() => act(name, 'restart')} onDone={onDone} />
      <ActionButton
        label="Roll back"
        testId="rollback"
        disabled={ro || targets.length === 0}
        ask={{
          title: `Roll back ${name}?`,
          body: (
            <label>
              To version
              <select data-testid="rollback-version" value={toVersion} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}>
                {targets.map((v) => (
                  <option key={v} value={v}>
                    {v}
                  </option>
                ))}
              </select>
            </label>
          ),
          confirm: 'Roll back',
          danger: true,
        }}
        run={() => act(name, 'rollback', { toVersion })}
        onDone={onDone}
      />
      {canary.promote ? <ActionButton label="Promote" testId="promote" disabled={ro} ask={{ title: `Promote the canary of ${name}?`, body: <p>Every instance moves to version {deployment?.version}.</p>, confirm: 'Promote' }} run={() => act(name, 'promote')} onDone={onDone} /> : null}
      <ReadOnlyNote who={who} />
      {canary.abort ? <ActionButton label="Abort" testId="abort" disabled={ro} ask={{ title: `Abort the deployment of ${name}?`, body: <p>The deployment stops and the service goes back to version {deployment?.fromVersion || 'before'}.</p>, confirm: 'Abort', danger: true }} run={() => act(name, 'abort')} onDone={onDone} /> : null}
    </div>
  );
}

export function DeploymentCard({ d, s }: { d: Deployment; s: ServiceStatus | undefined }) {
  const pct = progressPercent(d);
  const paused = d.phase === 'DEPLOYMENT_PAUSED';
  return (
    <Section title="Deployment in progress" actions={<Badge kind={paused ? 'warn' : 'wait'}>{phaseText(d.phase, 'DEPLOYMENT_')}</Badge>}>
      <div class="deploy-line">
        <progress data-testid="deployment-progress" max={100} value={pct} aria-label="deployment progress" />
        <strong class="num">{pct}%</strong>
      </div>
      <p>
        <span class="mono">{d.fromVersion || '(new)'}</span> → <span class="mono">{d.version}</span>
        {' · '}
        {num(s?.ready)}/{num(s?.instances)} ready, {num(s?.healthy)} healthy · started <Time ms={num(d.startedAtMs)} />
      </p>
      {currentStepText(d) ? <p class="muted">Now: {currentStepText(d)}</p> : null}
      {num(d.canaryInstances) > 0 ? (
        <p data-testid="canary">
          <Badge kind="warn">canary</Badge> {num(d.canaryInstances)} instance(s) of {d.version}
          {paused ? ' up and waiting: promote to roll out the rest, or abort to go back.' : ''}
        </p>
      ) : null}
      {d.message && !paused ? <p class="muted">{d.message}</p> : null}
      {(d.steps ?? []).length > 0 ? (
        <ol class="steps">
          {(d.steps ?? []).map((st, i) => (
            <li key={i} class={st.done ? 'done' : i === num(d.currentStep) ? 'current' : ''}>
              {st.description || st.action}
            </li>
          ))}
        </ol>
      ) : null}
    </Section>
  );
}

export function Instances({ s, frameworkId }: { s: ServiceStatus | undefined; frameworkId: string | undefined }) {
  const tasks = s?.tasks ?? [];
  return (
    <Section title={`Tasks (${tasks.length})`}>
      <Table
        empty="No tasks."
        head={
          <>
            <th>Task</th>
            <th>State</th>
            <th>Healthy</th>
            <th>Ready</th>
            <th>Version</th>
            <th class="wide-only">Host</th>
            <th class="wide-only">Ports</th>
            <th>Started</th>
            <th class="wide-only">Message</th>
          </>
        }
        rows={tasks.map((t) => {
          const pending = !t.agentId && t.state === 'TASK_STAGING' && s?.pendingReason;
          return (
            <tr key={t.taskId} data-testid={`task-row-${t.taskId ?? ''}`}>
              <td>
                <TaskLink frameworkId={frameworkId} taskId={t.taskId} />
                {t.canary ? <Badge kind="warn">canary</Badge> : null}
              </td>
              <td>
                <StateBadge state={String(t.state ?? '')} />
              </td>
              <td>
                <Flag value={t.healthy} />
              </td>
              <td>
                <Flag value={t.ready} />
              </td>
              <td class="mono">{t.version}</td>
              <td class="wide-only">{t.hostname || <span class="muted">—</span>}</td>
              <td class="mono wide-only">{portsText(t.ports)}</td>
              <td>
                <Time ms={num(t.startedAtMs) || num(t.stagedAtMs)} />
              </td>
              <td class="wrap wide-only">{pending ? `pending: ${s.pendingReason}` : t.message}</td>
            </tr>
          );
        })}
      />
    </Section>
  );
}

export function Endpoints({ s }: { s: ServiceStatus | undefined }) {
  const list = s?.endpoints ?? [];
  return (
    <Section title={`Endpoints (${list.length})`}>
      <ul class="endpoints" data-testid="endpoints">
        {list.length === 0 ? <li class="muted">None ready yet.</li> : null}
        {list.map((e) => (
          <li key={e.taskId}>
            <span class="mono">
              {e.host || e.ip}:{(e.ports ?? []).map((p) => String(p.number ?? '')).join(',')}
            </span>{' '}
            {e.ready ? <Badge kind="ok">ready</Badge> : <Badge kind="wait">not ready</Badge>}
            {e.healthy === false ? <Badge kind="bad">unhealthy</Badge> : null}
          </li>
        ))}
      </ul>
    </Section>
  );
}

export function Versions({ w }: { w: Workload }) {
  const versions = [...(w.serviceStatus?.versions ?? [])].reverse();
  return (
    <Section title="Versions">
      <Table
        head={
          <>
            <th>Version</th>
            <th>Change</th>
            <th>Created</th>
          </>
        }
        rows={versions.map((v) => (
          <tr key={v.version} class={v.version === w.version ? 'current' : ''}>
            <td class="mono">
              {v.version} {v.version === w.version ? <Badge kind="ok">current</Badge> : null}
            </td>
            <td>{v.change}</td>
            <td>
              <Time ms={num(v.createdAtMs)} />
            </td>
          </tr>
        ))}
      />
    </Section>
  );
}

const PHASE_KIND: Record<string, string> = { DEPLOYMENT_SUCCEEDED: 'ok', DEPLOYMENT_FAILED: 'bad', DEPLOYMENT_ABORTED: 'warn', DEPLOYMENT_SUPERSEDED: 'done', DEPLOYMENT_PAUSED: 'warn' };

export function Deployments({ s }: { s: ServiceStatus | undefined }) {
  const list = s?.deployments ?? [];
  return (
    <Section title="Deployments">
      <Table
        empty="None yet."
        head={
          <>
            <th>To</th>
            <th>Phase</th>
            <th class="num">Progress</th>
            <th>Started</th>
          </>
        }
        rows={list.map((d) => (
          <tr key={d.id} title={d.message}>
            <td class="mono">{d.version}</td>
            <td>
              <Badge kind={PHASE_KIND[String(d.phase)] ?? 'wait'}>{phaseText(d.phase, 'DEPLOYMENT_')}</Badge>
            </td>
            <td class="num">{progressPercent(d)}%</td>
            <td>
              <Time ms={num(d.startedAtMs)} />
            </td>
          </tr>
        ))}
      />
    </Section>
  );
}
