// Services: the list (instances running / healthy / ready against wanted, version, deployment),
// and one service's page — its instances and their tasks, the deployment in progress with a live
// bar, versions, endpoints, and the actions (scale, restart, rollback, promote, abort), each asking
// first and showing the API's error. Everything follows the Jobs API's watch and the master's task
// events through useLive.
import { getJson, pathOf, type Session } from '../api.js';
import { useLive, type Topic } from '../live.js';
import { href } from '../router.js';
import { Badge, Section, Time } from '../components/ui.js';
import { LoadState, SERVICES_FRAMEWORK, useFrameworkId, WorkloadHead, WorkloadList } from '../components/workload-ui.js';
import { activeDeployment, instanceCounts, num, phaseText, progressPercent, workloadEvents, type Workload } from './workload-model.js';
import { DeploymentCard, Deployments, Endpoints, Instances, ServiceActions, Versions } from './service-parts.js';

const TOPICS: readonly Topic[] = ['services', 'deployments', 'endpoints', 'tasks'];
/** The list: its kind's own watch events, which come whenever a view changes, its tasks' included — not every task event in the cluster. */
const LIST_TOPICS: readonly Topic[] = ['services', 'deployments', 'endpoints'];

export function Services() {
  const live = useLive(async (signal) => (await getJson<{ items?: Workload[] }>('/api/v1/services', signal)).items ?? [], LIST_TOPICS);
  const items = [...(live.data ?? [])].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  return (
    <WorkloadList
      title="Services"
      noun="service"
      file="service.yaml"
      live={live}
      count={items.length}
      head={
        <>
          <th>Name</th>
          <th class="num wide-only">Running</th>
          <th class="num wide-only">Healthy</th>
          <th class="num wide-only">Ready</th>
          <th class="num wide-only">Wanted</th>
          <th class="narrow-only">Instances</th>
          <th class="wide-only">Version</th>
          <th>Deployment</th>
          <th class="wide-only">Created</th>
        </>
      }
    >
      {items.map((w) => <ServiceRow key={w.name} w={w} />)}
    </WorkloadList>
  );
}

function ServiceRow({ w }: { w: Workload }) {
  const c = instanceCounts(w.serviceStatus);
  const short = (n: number): string => (n < c.wanted ? 'short' : '');
  return (
    <tr data-testid={`service-row-${w.name ?? ''}`}>
      <td>
        <a href={href(['services', String(w.name ?? '')])}>{w.name}</a>
      </td>
      <td class={`num wide-only ${short(c.running)}`}>{c.running}</td>
      <td class={`num wide-only ${short(c.healthy)}`}>{c.healthy}</td>
      <td class={`num wide-only ${short(c.ready)}`}>{c.ready}</td>
      <td class="num wide-only">{c.wanted}</td>
      <td class="narrow-only small">
        <span class={short(c.running)}>{c.running} running</span>, <span class={short(c.healthy)}>{c.healthy} healthy</span>
        <br />
        <span class={short(c.ready)}>{c.ready} ready</span> of {c.wanted}
      </td>
      <td class="mono wide-only">{w.version}</td>
      <td>
        <DeploymentState w={w} />
      </td>
      <td class="wide-only">
        <Time ms={num(w.createdAtMs)} />
      </td>
    </tr>
  );
}

function DeploymentState({ w }: { w: Workload }) {
  const d = activeDeployment(w.serviceStatus);
  if (d) return <Badge kind={d.phase === 'DEPLOYMENT_PAUSED' ? 'warn' : 'wait'}>{`${phaseText(d.phase, 'DEPLOYMENT_')} ${progressPercent(d)}%`}</Badge>;
  if (w.serviceStatus?.pendingReason) return <Badge kind="warn">pending</Badge>;
  return <Badge kind="ok">stable</Badge>;
}

export function ServicePage({ name, who }: { name: string; who: Session }) {
  const frameworkId = useFrameworkId(SERVICES_FRAMEWORK);
  const live = useLive((signal) => getJson<Workload>(pathOf('/api/v1/services', name), signal), TOPICS, [name, frameworkId], {
    filter: workloadEvents(name, frameworkId),
  });
  const w = live.data;
  const s = w?.serviceStatus;
  const d = activeDeployment(s);
  return (
    <>
      <WorkloadHead kind="Services" list="services" name={name}>
        {w ? <span class="mono muted">version {w.version}</span> : null}
      </WorkloadHead>
      <LoadState live={live} what="the service" />
      {w ? (
        <>
          <Summary w={w} />
          <ServiceActions w={w} deployment={d} who={who} onDone={live.reload} />
          {d ? <DeploymentCard d={d} s={s} /> : null}
          <Instances s={s} frameworkId={frameworkId} />
          <Endpoints s={s} />
          <div class="grid two">
            <Versions w={w} />
            <Deployments s={s} />
          </div>
        </>
      ) : null}
    </>
  );
}

function Summary({ w }: { w: Workload }) {
  const s = w.serviceStatus;
  const c = instanceCounts(s);
  const backoff = num(s?.backoffUntilMs);
  return (
    <Section title="Instances">
      <div class="counts">
        <Count label="running" value={c.running} wanted={c.wanted} testId="instances-running" />
        <Count label="healthy" value={c.healthy} wanted={c.wanted} testId="instances-healthy" />
        <Count label="ready" value={c.ready} wanted={c.wanted} testId="instances-ready" />
        <Count label="wanted" value={c.wanted} />
      </div>
      {s?.pendingReason ? (
        <p class="pending">
          <strong>Waiting:</strong> <span data-testid="pending-reason">{s.pendingReason}</span>
        </p>
      ) : null}
      {backoff > Date.now() ? (
        <p class="pending">
          Relaunches are delayed after repeated failures; the next one <Time ms={backoff} />.
        </p>
      ) : null}
      <p class="muted small">{w.service?.command || (w.service?.args ?? []).join(' ')}</p>
    </Section>
  );
}

function Count({ label, value, wanted, testId }: { label: string; value: number; wanted?: number; testId?: string }) {
  return (
    <div class={`count ${wanted !== undefined && value < wanted ? 'short' : ''}`}>
      <div class="stat" data-testid={testId}>
        {value}
      </div>
      <div class="stat-label">{label}</div>
    </div>
  );
}
