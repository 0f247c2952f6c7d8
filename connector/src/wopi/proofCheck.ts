import type { Next } from 'koa';
import type { ProofMode } from '../config/config.js';
import type { DiscoveryClient, DiscoverySnapshot } from '../discovery/DiscoveryClient.js';
import { verifyProof, type ProofVerdict } from '../proof/proofKeys.js';
import { WopiError } from '../errors/errors.js';
import type { WopiContext } from './wopiContext.js';

/** 500 for a request DS did not sign (MS-WOPI: an invalid proof is answered 500). */
export class ProofRejectedError extends WopiError {
  constructor(reason: string) {
    super(500, 'proof_rejected', 'Proof rejected', { detail: { reason } });
  }
}

/** Counts of proof outcomes since start, by result (for /metrics and the admin page). */
export type ProofCounters = Record<string, number>;

export interface ProofCheckOptions {
  mode: ProofMode;
  /** null when no DS is configured. */
  discovery: DiscoveryClient | null;
  /** The bridge's public base URL: the signed URL is rebuilt from it, not from the Host header. */
  publicUrl: string;
  counters: ProofCounters;
  now?: () => number;
}

const count = (c: ProofCounters, key: string): void => {
  c[key] = (c[key] ?? 0) + 1;
};

/**
 * Verifies X-WOPI-Proof / X-WOPI-ProofOld / X-WOPI-TimeStamp on every WOPI request, before the token is looked at.
 * enforce: a request without a valid proof is refused. auto (default): enforced when DS's discovery publishes
 * keys; DS without keys (its default) is let through and counted as unchecked. off: nothing checked.
 * A failed signature, or a request that disagrees with the cached keys' presence, refetches discovery once (rate
 * limited) so a key rotation on DS does not break editing; a proof valid only with the old key triggers a refetch too.
 */
export function proofCheck(opts: ProofCheckOptions) {
  const now = opts.now ?? Date.now;
  return async (ctx: WopiContext, next: Next): Promise<void> => {
    if (opts.mode === 'off') return next();
    const token = typeof ctx.query.access_token === 'string' ? ctx.query.access_token : '';
    const url = opts.publicUrl + ctx.originalUrl;
    const header = (name: string): string | undefined => {
      const v = ctx.headers[name];
      return typeof v === 'string' ? v : undefined;
    };
    const judge = (snap: DiscoverySnapshot): ProofVerdict | null =>
      snap.keys === null
        ? null
        : verifyProof({
            token,
            url,
            timestamp: header('x-wopi-timestamp'),
            proof: header('x-wopi-proof'),
            proofOld: header('x-wopi-proofold'),
            keys: snap.keys,
            now: now(),
          });

    let snap = opts.discovery?.cached() ?? null;
    if (snap === null && opts.discovery) {
      // No discovery yet: enforce must wait for keys (bounded by DOCS_TIMEOUT_MS); auto lets the request through at
      // once and loads discovery in the background, so a hung DS cannot slow editing down.
      if (opts.mode === 'enforce') snap = await opts.discovery.get().catch(() => null);
      else void opts.discovery.refetchAfterProofFailure();
    }
    let verdict = snap ? judge(snap) : null;
    const signed = header('x-wopi-proof') !== undefined;
    // Keys missing while the request is signed, or a bad signature: DS may have changed its keys.
    if (opts.discovery && snap !== null && ((verdict === null && signed) || (verdict !== null && !verdict.ok && verdict.reason !== 'stale_timestamp'))) {
      const fresh = await opts.discovery.refetchAfterProofFailure();
      if (fresh) {
        snap = fresh;
        verdict = judge(fresh);
      }
    }
    if (verdict === null) {
      if (opts.mode === 'enforce') {
        count(opts.counters, 'rejected_no_keys');
        ctx.state.log.warn({ reason: 'no_keys' }, 'proof rejected');
        throw new ProofRejectedError('no_keys');
      }
      count(opts.counters, 'unchecked');
      return next();
    }
    if (!verdict.ok) {
      count(opts.counters, `rejected_${verdict.reason}`);
      ctx.state.log.warn({ reason: verdict.reason }, 'proof rejected');
      throw new ProofRejectedError(verdict.reason);
    }
    count(opts.counters, 'passed');
    if (verdict.via === 'proof-old') void opts.discovery?.refetchAfterProofFailure();
    await next();
  };
}
