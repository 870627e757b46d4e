// The package as a dependency sees it: every entry in package.json's `exports` (and `bin`) resolves
// to a built file that loads, from a project that has `agora` in its node_modules; what is not
// exported (core, master …) stays internal. Runs against dist/, which the global setup rebuilds.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/build.js';
import { tempDir } from '../support/tmp.js';

interface Manifest {
  name: string;
  bin: Record<string, string>;
  exports: Record<string, string | { types?: string; default: string }>;
}

const manifest = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as Manifest;
let consumer = '';

/** Runs an ES module in the consumer project; returns its stdout, or the error's code. */
function inConsumer(code: string): { out: string; err: string; status: number | null } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: consumer, encoding: 'utf8', timeout: 30_000 });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

beforeAll(async () => {
  consumer = await tempDir('consumer');
  mkdirSync(path.join(consumer, 'node_modules'));
  symlinkSync(REPO, path.join(consumer, 'node_modules', manifest.name), 'dir');
});

describe('package.json exports', () => {
  it('maps every subpath to files that exist, with types for each code entry', () => {
    expect(Object.keys(manifest.exports).sort()).toEqual(['./package.json', './sdk', './sdk/testing']);
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      const files = typeof target === 'string' ? [target] : [target.default, ...(target.types ? [target.types] : [])];
      for (const file of files) expect(existsSync(path.join(REPO, file)), `${subpath} → ${file}`).toBe(true);
      if (typeof target !== 'string') expect(target.types, `${subpath} has no types`).toMatch(/\.d\.ts$/);
    }
  });

  it('loads agora/sdk from another project, with the API the SDK README shows', () => {
    const r = inConsumer(`const m = await import('agora/sdk'); console.log(JSON.stringify(Object.keys(m).sort()));`);
    expect(r.err).toBe('');
    const names = JSON.parse(r.out) as string[];
    for (const name of ['FrameworkDriver', 'Resources', 'resourcesFromWire', 'resourcesToWire', 'isTerminal', 'FakeClock', 'InvalidArgumentError']) {
      expect(names).toContain(name);
    }
    const types = readFileSync(path.join(REPO, 'dist/sdk/index.d.ts'), 'utf8');
    expect(types).toContain('FrameworkDriver');
  });

  it('loads agora/sdk/testing from another project: the kit of the SDK README\u2019s "Testing your framework"', () => {
    const r = inConsumer(`const m = await import('agora/sdk/testing'); console.log(JSON.stringify(Object.keys(m).sort()));`);
    expect(r.err).toBe('');
    const names = JSON.parse(r.out) as string[];
    for (const name of ['FakeDriver', 'FakeClock', 'offer', 'status', 'taskSpec', 'startTestCluster', 'eventually']) expect(names).toContain(name);
  });

  it('keeps everything else internal: agora/core and deep paths are not exported', () => {
    for (const specifier of ['agora/core', 'agora/master/master.js', 'agora/dist/core/errors.js']) {
      const r = inConsumer(`await import('${specifier}');`);
      expect(r.status, specifier).not.toBe(0);
      expect(r.err, specifier).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
    }
  });

  it('reads its own package.json through the export', () => {
    const r = inConsumer(`import { createRequire } from 'node:module'; console.log(createRequire(process.cwd() + '/x.js')('agora/package.json').name);`);
    expect(r.out.trim()).toBe('agora');
  });

  it('runs the bin: dist/cli/main.js is an executable node script that answers --version', () => {
    const bin = path.join(REPO, manifest.bin.agora ?? '');
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }).trim()).toBe(JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version);
  });

  it('runs the bin through symlinks — the package linked into node_modules, npm\'s .bin link, no extension — and does its work', () => {
    const version = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version as string;
    const bin = manifest.bin.agora ?? '';
    mkdirSync(path.join(consumer, 'node_modules', '.bin'), { recursive: true });
    const link = path.join(consumer, 'node_modules', '.bin', 'agora');
    if (!existsSync(link)) symlinkSync(path.join('..', manifest.name, bin), link);
    const throughPackage = path.join(consumer, 'node_modules', manifest.name, bin);
    const runs = [
      { name: 'node node_modules/agora/<bin>', run: () => spawnSync(process.execPath, [throughPackage, '--version'], { cwd: consumer, encoding: 'utf8' }) },
      // (npm makes the bin executable when it installs; a build in the repository is not, so node runs it.)
      { name: 'node_modules/.bin/agora', run: () => spawnSync(process.execPath, [link, '--version'], { cwd: consumer, encoding: 'utf8' }) },
      { name: 'node <bin without .js>', run: () => spawnSync(process.execPath, [throughPackage.replace(/\.js$/, ''), '--version'], { cwd: consumer, encoding: 'utf8' }) },
    ];
    for (const { name, run } of runs) {
      const r = run();
      // Before the entry-point check compared real paths, these exited 0 having printed nothing.
      expect(r.status, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stdout.trim(), name).toBe(version);
    }
    const help = spawnSync(process.execPath, [link, 'up', '--help'], { cwd: consumer, encoding: 'utf8' });
    expect(help.stdout).toContain('--attributes');
  });
});
