import { setTimeout as pause } from 'node:timers/promises';
import { TOOL_NAME, TOOL_VERSION } from '../../core/version.js';

/** Three attempts in all, a pause before each retry: a receiver that is briefly down gets the message; one that is gone costs seconds, not the run. */
const RETRY_PAUSES_MS = [1_000, 2_000];

export interface Delivery {
  readonly url: URL;
  readonly body: string;
  readonly contentType: string;
}

/** Why a delivery failed, in words (never the URL), or undefined when it was delivered. */
export type DeliveryFailure = string | undefined;

/**
 * POSTs a body, retrying a network failure, a timeout, a 429 or a 5xx answer. Never throws: an
 * undeliverable message is the caller's warning, never the run's failure.
 */
export async function deliver(delivery: Delivery, timeoutMs: number): Promise<DeliveryFailure> {
  let failure: string = 'not attempted';
  for (let attempt = 0; attempt <= RETRY_PAUSES_MS.length; attempt += 1) {
    if (attempt > 0) await pause(RETRY_PAUSES_MS[attempt - 1]);
    const answer = await attemptOnce(delivery, timeoutMs);
    if (answer.delivered) return undefined;
    failure = answer.reason;
    if (!answer.retry) break;
  }
  return failure;
}

async function attemptOnce(
  { url, body, contentType }: Delivery,
  timeoutMs: number,
): Promise<{ delivered: true } | { delivered: false; retry: boolean; reason: string }> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': contentType, 'user-agent': `${TOOL_NAME}/${TOOL_VERSION}` },
      body,
      redirect: 'follow',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer's body is not needed; reading it frees the connection.
    await response.body?.cancel().catch(() => undefined);
    if (response.ok) return { delivered: true };
    const retry = response.status === 429 || response.status >= 500;
    return { delivered: false, retry, reason: `answered HTTP ${response.status}` };
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TimeoutError') return { delivered: false, retry: true, reason: `no answer within ${timeoutMs / 1000} s` };
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { delivered: false, retry: true, reason: cause ? `could not connect (${cause})` : 'could not connect' };
  }
}
