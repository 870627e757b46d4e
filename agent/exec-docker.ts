// `agora exec` into a Docker task: the engine's exec API (dockerode). The command runs in the task's
// container — its namespaces, cgroup, user (the container's User) and working directory, with the
// container's environment — as `docker exec` does. Without a terminal the engine multiplexes
// stdout and stderr on one stream (demuxed here); with one (-t) it resizes the exec's pty itself.
// The engine has no way to kill an exec: its host pid (exec inspect) and every descendant are
// killed from the host (process-tree.ts).
import { PassThrough } from 'node:stream';
import type { Duplex } from 'node:stream';
import Docker from 'dockerode';
import type { ExitFrame, TerminalSize } from '../core/exec-protocol.js';
import type { Logger } from '../core/logger.js';
import type { ExecProcess, ExecRequest } from './exec-backend.js';
import { killTree } from './process-tree.js';

export async function startDockerExec(socketPath: string, containerId: string, req: ExecRequest, log: Logger): Promise<ExecProcess> {
  const docker = new Docker({ socketPath });
  const exec = await docker.getContainer(containerId).exec({
    Cmd: [...req.command],
    AttachStdin: req.stdin,
    AttachStdout: true,
    AttachStderr: true,
    Tty: req.tty,
    ...(req.tty ? { Env: [`TERM=${req.term ?? 'xterm'}`] } : {}),
  });
  const stream = (await exec.start({ hijack: true, stdin: req.stdin, Tty: req.tty })) as Duplex;
  const stdout = new PassThrough();
  const stderr = req.tty ? undefined : new PassThrough();
  if (stderr) docker.modem.demuxStream(stream, stdout, stderr);
  else stream.pipe(stdout, { end: false });
  const resize = (size: TerminalSize): void => {
    if (req.tty) exec.resize({ h: size.rows, w: size.cols }).catch((err: unknown) => log.debug({ err }, 'could not resize the exec terminal'));
  };
  if (req.size) resize(req.size);
  const exited = new Promise<ExitFrame>((resolve) => {
    let once = false;
    const done = (): void => {
      if (once) return;
      once = true;
      stdout.end();
      stderr?.end();
      exec
        .inspect()
        .then((info) => resolve({ exitCode: info.ExitCode ?? 1 }))
        .catch((err: unknown) => {
          log.warn({ err }, 'could not read the exit code of an exec');
          resolve({ exitCode: 1 });
        });
    };
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', done);
  });
  return {
    stdin: req.stdin ? stream : undefined,
    stdout,
    stderr,
    resize,
    exited,
    kill: () => {
      // Its host pid now (asked at the start, the engine may not have known it yet).
      exec
        .inspect()
        .then((info) => {
          if (info.Running && info.Pid > 0) killTree(info.Pid);
        })
        .catch((err: unknown) => log.warn({ err }, 'could not find the exec process to kill it'))
        .finally(() => stream.destroy());
    },
  };
}
