// HTTP to a cluster that is being hurt: every call has a deadline, a standby's 307 is followed by
// hand (fetch drops the bearer token across origins), and whoever answers first among the live
// processes is used. As the test admin, over TLS trusting the run's CA.
import { secureFetch } from '../support/security.js';

const CALL_TIMEOUT_MS = 2_000;

export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** One request to `address`, following up to two redirects; throws on a network error or timeout. */
export async function call(address: string, pathAndQuery: string, init: { method?: string; body?: string; timeoutMs?: number } = {}): Promise<Answer> {
  let url = `https://${address}${pathAndQuery}`;
  for (let hop = 0; ; hop++) {
    const res = await secureFetch(url, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      signal: AbortSignal.timeout(init.timeoutMs ?? CALL_TIMEOUT_MS),
      ...(init.body === undefined ? {} : { body: init.body, headers: { 'content-type': 'application/yaml' } }),
    });
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location && hop < 2) {
      await res.body?.cancel();
      url = location;
      continue;
    }
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body };
  }
}

/** The first 2xx answer from any of `addresses`, or undefined when none gives one. */
export async function callAny(addresses: readonly (string | undefined)[], pathAndQuery: string, init: { method?: string; body?: string; timeoutMs?: number } = {}): Promise<Answer | undefined> {
  for (const address of addresses) {
    if (address === undefined) continue;
    try {
      const answer = await call(address, pathAndQuery, init);
      if (answer.status >= 200 && answer.status < 300) return answer;
    } catch {
      // down, frozen or not serving: the next one
    }
  }
  return undefined;
}
