import { AbortedError, PreconditionError, RuntimeError } from '../base/errors.js';

/**
 * An engine failure as the error the user sees: an interruption, an engine that cannot be
 * reached (naming the address tried), or the engine's own message for what was being done.
 */
export function engineError(error: unknown, doing: string, address: string): Error {
  if ((error as Error).name === 'AbortError') return new AbortedError(`${doing} was interrupted.`);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES' || code === 'ECONNRESET' || code === 'EHOSTUNREACH') {
    const unset = address.startsWith('DOCKER_HOST=') ? '' : '; DOCKER_HOST is not set';
    return new PreconditionError(`cannot reach the Docker engine at ${address} (${code}${unset}).`, {
      hint: 'Start Docker or set DOCKER_HOST to a reachable engine.',
    });
  }
  return new RuntimeError(`Docker engine error while ${doing}: ${messageOf(error)}.`);
}

/** The HTTP status of an engine answer (404: no such thing; 304: already in that state). */
export function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/** The first line of an engine error's message, without dockerode's "(HTTP code N)" prefix. */
export function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].replace(/^\(HTTP code \d+\)\s*/, '');
}
