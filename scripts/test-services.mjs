#!/usr/bin/env node
// The machine-level side of the test services (test/support starts and stops them).
//
//   node scripts/test-services.mjs ensure          install what the services need (Debian/apt)
//   node scripts/test-services.mjs status          what is installed; runs and services in the temp root
//   node scripts/test-services.mjs cleanup [--all] reap runs whose owner died (--all: every run)
//
// `npm test` runs `ensure` before vitest. As root it installs missing packages with apt-get; as
// anyone else it prints the command to run and fails.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** What the services need: a check, and the Debian package that satisfies it. */
const REQUIREMENTS = [
  { what: 'java', pkg: 'default-jre-headless', ok: () => onPath('java') },
  { what: '/usr/share/java/zookeeper.jar', pkg: 'zookeeper', ok: () => isFile('/usr/share/java/zookeeper.jar') },
  { what: '/usr/share/java/slf4j-log4j12.jar', pkg: 'libslf4j-java', ok: () => isFile('/usr/share/java/slf4j-log4j12.jar') },
  { what: '/usr/share/java/log4j-1.2.jar', pkg: 'liblog4j1.2-java', ok: () => isFile('/usr/share/java/log4j-1.2.jar') },
  { what: 'dockerd', pkg: 'docker.io', ok: () => onPath('dockerd') },
  { what: 'containerd', pkg: 'containerd', ok: () => onPath('containerd') },
  { what: 'runc', pkg: 'runc', ok: () => onPath('runc') },
  { what: '/bin/busybox (static)', pkg: 'busybox-static', ok: () => isStaticElf('/bin/busybox') },
  { what: 'nc', pkg: 'netcat-openbsd', ok: () => onPath('nc') },
  // The service DNS tests ask it with a real resolver client (test/support/dig.ts).
  { what: 'dig', pkg: 'dnsutils', ok: () => onPath('dig') },
  { what: 'tar', pkg: 'tar', ok: () => onPath('tar') },
  // Hosts of their own (test/support/netns.ts: ip netns) and their client (curl).
  { what: 'ip', pkg: 'iproute2', ok: () => onPath('ip') },
  { what: 'curl', pkg: 'curl', ok: () => onPath('curl') },
  { what: '/usr/bin/promtool', pkg: 'prometheus', ok: () => isFile('/usr/bin/promtool') },
  // The dashboard's browser tests drive it through playwright-core (test/support/browser.ts).
  { what: '/usr/bin/chromium', pkg: 'chromium', ok: () => isFile('/usr/bin/chromium') },
  // Clients in other languages (proto/CLIENTS.md): protoc compiles the protos, the Python example runs.
  { what: '/usr/bin/protoc', pkg: 'protobuf-compiler', ok: () => isFile('/usr/bin/protoc') },
  // `agora completion zsh` is tried in a real zsh (test/e2e/cli-day-two.test.ts).
  { what: 'zsh', pkg: 'zsh', ok: () => onPath('zsh') },
  { what: "Debian python3's grpc", pkg: 'python3-grpcio', ok: () => isFile('/usr/lib/python3/dist-packages/grpc/__init__.py') },
];

const isRoot = process.getuid?.() === 0;

function main(argv) {
  const [verb, ...flags] = argv;
  switch (verb) {
    case 'ensure':
      return ensure();
    case 'status':
      return status();
    case 'cleanup':
      return cleanup(flags.includes('--all'));
    default:
      console.error('usage: node scripts/test-services.mjs ensure | status | cleanup [--all]');
      return 2;
  }
}

function ensure() {
  let missing = REQUIREMENTS.filter((r) => !r.ok());
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((r) => r.pkg))];
    const install = ['apt-get', 'install', '-y', '--no-install-recommends', ...pkgs];
    console.log(`test services: missing ${missing.map((r) => r.what).join(', ')}`);
    if (!isRoot) {
      console.error(`test services: not root; install them with:\n  sudo ${install.join(' ')}`);
      return 1;
    }
    if (!onPath('apt-get')) {
      console.error(`test services: no apt-get here; install the equivalents of: ${pkgs.join(' ')}`);
      return 1;
    }
    console.log(`test services: installing ${pkgs.join(' ')} (apt-get update; ${install.join(' ')})`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const cmd of [['apt-get', 'update'], install]) {
      const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ['ignore', 'inherit', 'inherit'], env });
      if (r.status !== 0) {
        console.error(`test services: \`${cmd.join(' ')}\` failed (${r.error?.message ?? `exit ${r.status}`})`);
        return 1;
      }
    }
    missing = REQUIREMENTS.filter((r) => !r.ok());
    if (missing.length > 0) {
      console.error(`test services: still missing after install: ${missing.map((r) => r.what).join(', ')}`);
      return 1;
    }
  }
  if (!isRoot) {
    console.error('test services: dockerd needs root; run the tests as root (as CI does)');
    return 1;
  }
  console.log(`test services: ready (${versions().join(', ')})`);
  return 0;
}

async function status() {
  for (const r of REQUIREMENTS) console.log(`${r.ok() ? 'ok     ' : 'MISSING'}  ${r.what}  (${r.pkg})`);
  console.log(versions().join(', '));
  const tmp = await loadTmp();
  const runs = tmp.listRuns();
  console.log(`\n${tmp.TMP_ROOT}: ${runs.length} run(s)`);
  for (const run of runs) {
    const owner = run.ownerPid === undefined ? 'no owner' : `owner ${run.ownerPid} ${run.ownerAlive ? 'running' : 'gone'}`;
    console.log(`  ${path.basename(run.dir)}  ${owner}`);
    for (const s of run.services) {
      console.log(`    ${path.basename(s.dir).padEnd(20)} pid ${s.pid} ${s.alive ? 'alive' : 'dead '}  ${s.endpoint}`);
    }
  }
  return 0;
}

async function cleanup(all) {
  const tmp = await loadTmp();
  const reaped = tmp.reapRuns({ all });
  for (const run of reaped) {
    const alive = run.services.filter((s) => s.alive).map((s) => `${s.name} ${s.pid}`);
    console.log(`reaped ${run.dir}${alive.length ? ` (killed ${alive.join(', ')})` : ''}`);
  }
  const left = tmp.listRuns().filter((r) => !reaped.some((x) => x.dir === r.dir));
  console.log(`cleanup: ${reaped.length} run(s) reaped, ${left.length} live run(s) left alone${all ? '' : ' (--all reaps them too)'}`);
  return 0;
}

/** test/support/tmp.ts owns the layout of the temp root and the reaping; load it through tsx. */
async function loadTmp() {
  const { tsImport } = await import('tsx/esm/api');
  return tsImport('../test/support/tmp.ts', import.meta.url);
}

function versions() {
  const first = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return (r.stdout || r.stderr || '').split('\n')[0].trim() || `${cmd}: not found`;
  };
  const dockerd = ['/usr/sbin/dockerd', 'dockerd'].find((c) => c === 'dockerd' || isFile(c));
  return [first('java', ['-version']), first(dockerd, ['--version'])];
}

/** On PATH or in an sbin directory (root's tools, where some CI shells' PATH does not look). */
function onPath(cmd) {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  return dirs.some((dir) => {
    try {
      fs.accessSync(path.join(dir || '.', cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function isFile(file) {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** An ELF executable without a PT_INTERP program header, i.e. one that needs no loader. */
function isStaticElf(file) {
  let b;
  try {
    b = fs.readFileSync(file);
  } catch {
    return false;
  }
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) return false; // ELF64 LE
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > b.length) return false;
    if (b.readUInt32LE(at) === 3) return false; // PT_INTERP
  }
  return true;
}

process.exitCode = await main(process.argv.slice(2));
