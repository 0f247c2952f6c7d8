/**
 * The probe endpoint, `GET {PUBLIC_URL}/probe/<id>`: DocumentServer fetches it when the "DocumentServer reaches the
 * bridge" check asks DS for a conversion. It records what arrived (see ProbeRecords) and serves a tiny text file so
 * that the conversion can succeed. Ids of the wrong shape get 404; nothing is written for an unknown id; no token is ever logged or echoed.
 */
import type { Context, Middleware, Next } from 'koa';
import type { StateStore } from '../../state/StateStore.js';
import { isProbeId, PROBE_PATH, ProbeRecords, type ArrivedToken } from './ProbeRecords.js';

/** What the probe serves: a plain-text file DS can convert (filetype `txt`). */
export const PROBE_BODY = 'wopi-bridge probe: DocumentServer reached the bridge.\n';

/** The Bearer tokens in a request's headers. */
function bearerTokens(headers: Context['headers']): ArrivedToken[] {
  const out: ArrivedToken[] = [];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      const m = typeof v === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(v) : null;
      if (m?.[1]) out.push({ header: name.toLowerCase(), token: m[1] });
    }
  }
  return out;
}

/**
 * The probe endpoint as middleware (only GET/HEAD `/probe/<id>`; everything else passes on).
 * @param state - the state store the probe records live in
 * @param now - clock (tests)
 */
export function probeRouter(state: StateStore, now: () => number = Date.now): Middleware {
  const records = new ProbeRecords(state, now);
  const pattern = new RegExp(`^${PROBE_PATH}/([^/]+)$`);
  return async (ctx: Context, next: Next): Promise<void> => {
    const m = pattern.exec(ctx.path);
    if (!m || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) {
      await next();
      return;
    }
    ctx.state.op = 'Probe';
    const known = await records.recordArrival(m[1] ?? '', {
      at: now(),
      method: ctx.method,
      tokens: bearerTokens(ctx.headers),
      hasAuthorization: ctx.get('Authorization') !== '',
      userAgent: ctx.get('User-Agent'),
    });
    ctx.set('Cache-Control', 'no-store');
    if (!known && !isProbeId(m[1] ?? '')) {
      ctx.status = 404;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'No such probe\n';
      return;
    }
    // An unknown (expired, or another state store's) id is served too, recording nothing: DS's conversion then
    // succeeds while no record appears, which the check reports as "another server answered" — the symptom of
    // instances behind one PUBLIC_URL that do not share a state store.
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = PROBE_BODY;
  };
}
