// The CLI's own errors. Bad input read from a file (the config file, a policy file) names the file
// and the field in it; a 401 says which credential was refused and how to get a good one.
import { AgoraError, UnauthenticatedError } from '../core/errors.js';

/** A field of a file the user wrote is wrong: `FILE: FIELD: what is wrong` (exit 2). */
export class FileInputError extends AgoraError {
  constructor(
    readonly file: string,
    field: string,
    message: string,
  ) {
    super('AGORA_INVALID_ARGUMENT', `${file}: ${field}: ${message}`, { field, details: { file } });
  }
}

/** The server did not accept the credentials the CLI sent (or that it sent none). */
export class CredentialsRejectedError extends UnauthenticatedError {}

/** End the command with this exit code and no message (`agora diff`: 1 when there are differences). */
export class ExitCode extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/** A remote command ended with this status (`agora exec`): the CLI exits with it, printing nothing. */
export class RemoteExitError extends Error {
  constructor(readonly exitCode: number) {
    super(`the remote command exited with status ${exitCode}`);
  }
}
