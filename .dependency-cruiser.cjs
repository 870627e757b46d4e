// Layering rules from ARCHITECTURE.md ("Layout and the direction of imports"): cli → master | agent | frameworks → sdk → core → proto;
// master → core; agent → core. Arrows point down only; no cycles; the allocator does no I/O; web/ (browser code) and the
// server folders never import each other.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Import cycles make layering meaningless.', from: {}, to: { circular: true } },
    {
      name: 'proto-is-a-leaf',
      severity: 'error',
      comment: 'Generated protocol code imports nothing of ours.',
      from: { path: '^proto/' },
      to: { path: '^(core|master|agent|sdk|frameworks|cli|examples)/' },
    },
    {
      name: 'core-only-down',
      severity: 'error',
      comment: 'core/ may import only core/ and proto/.',
      from: { path: '^core/' },
      to: { path: '^(master|agent|sdk|frameworks|cli|examples)/' },
    },
    {
      name: 'master-not-up-or-sideways',
      severity: 'error',
      comment: 'The master never imports the agent, the SDK, a framework or the CLI.',
      from: { path: '^master/' },
      to: { path: '^(agent|sdk|frameworks|cli|examples)/' },
    },
    {
      name: 'agent-not-up-or-sideways',
      severity: 'error',
      comment: 'The agent never imports the master, the SDK, a framework or the CLI.',
      from: { path: '^agent/' },
      to: { path: '^(master|sdk|frameworks|cli|examples)/' },
    },
    {
      name: 'sdk-only-down',
      severity: 'error',
      comment: 'The SDK knows nothing of the master, the agent or the built-in frameworks (its testing kit excepted, below).',
      from: { path: '^sdk/', pathNot: '^sdk/testing/' },
      to: { path: '^(master|agent|frameworks|cli|examples)/' },
    },
    {
      // The one exception to sdk-only-down: agora/sdk/testing's startTestCluster runs a real master and
      // agents in the test's process, so the kit imports master/ and agent/ — and nothing else above the SDK.
      name: 'sdk-testing-runs-a-cluster',
      severity: 'error',
      comment: 'sdk/testing may import the master and the agent (its in-process cluster), never a framework or the CLI.',
      from: { path: '^sdk/testing/' },
      to: { path: '^(frameworks|cli|examples)/' },
    },
    {
      name: 'nothing-ships-on-the-kit',
      severity: 'error',
      comment: 'The testing kit is for tests: no product code (nor the rest of the SDK) imports sdk/testing.',
      from: { path: '^(proto|core|master|agent|sdk|frameworks|cli)/', pathNot: '^sdk/testing/' },
      to: { path: '^sdk/testing/' },
    },
    {
      name: 'frameworks-only-on-sdk',
      severity: 'error',
      comment: 'Frameworks are built on the SDK; they never reach into the master or the agent.',
      from: { path: '^frameworks/' },
      to: { path: '^(master|agent|cli|examples)/' },
    },
    {
      name: 'no-sibling-frameworks',
      severity: 'error',
      comment: 'services, cron and batch never import each other: what they share lives in frameworks/common/ (or the SDK).',
      from: { path: '^frameworks/(services|cron|batch)/' },
      to: { path: '^frameworks/(services|cron|batch)/', pathNot: '^frameworks/$1/' },
    },
    {
      name: 'common-knows-no-framework',
      severity: 'error',
      comment: 'frameworks/common/ is the layer the three build on: it imports none of them (nor the Jobs API or the host).',
      from: { path: '^frameworks/common/' },
      to: { path: '^frameworks/', pathNot: '^frameworks/common/' },
    },
    {
      name: 'examples-use-public-sdk',
      severity: 'error',
      comment: 'Examples use only the public SDK.',
      from: { path: '^examples/' },
      to: { path: '^(master|agent|frameworks|cli|core)/' },
    },
    {
      name: 'web-is-browser-code',
      severity: 'error',
      comment: 'The dashboard (web/) runs in the browser and reaches the cluster over HTTP only: it imports nothing of the server folders.',
      from: { path: '^web/' },
      to: { path: '^(proto|core|master|agent|sdk|frameworks|cli|examples)/' },
    },
    {
      name: 'nothing-imports-web',
      severity: 'error',
      comment: 'The server serves the built dashboard as files (dist/web); no server code imports web/.',
      from: { path: '^(proto|core|master|agent|sdk|frameworks|cli|examples)/' },
      to: { path: '^web/' },
    },
    {
      name: 'allocator-is-pure',
      severity: 'error',
      comment: 'master/allocator/ takes facts and `now` and returns offers: no gRPC, timers, logger, store or Node built-ins.',
      from: { path: '^master/allocator/' },
      to: {
        pathNot: '^(master/allocator/|core/(resources|ranges|random|errors|task-state|ids)[^/]*\\.ts$)',
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|test|bench|node_modules)/|\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.d.ts'],
    },
  },
};
