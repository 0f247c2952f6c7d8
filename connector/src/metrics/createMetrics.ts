import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The bridge's Prometheus metrics, on a registry of its own (so tests can run several bridges in one process). */
export interface Metrics {
  registry: Registry;
  requests: Counter<'op' | 'status'>;
  duration: Histogram<'op'>;
  bytes: Counter<'op'>;
  lockConflicts: Counter<'op'>;
  conflictCopies: Counter;
  proofRejections: Counter<'reason'>;
  checkStatus: Gauge<'id' | 'status'>;
}

/**
 * Creates the metrics: requests by operation and status, durations, bytes, lock conflicts, conflict copies,
 * proof rejections, check results (1 for the current status of each check), and Node's default process metrics.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'wopi_bridge_' });
  return {
    registry,
    requests: new Counter({ name: 'wopi_bridge_requests_total', help: 'HTTP requests by WOPI operation and status', labelNames: ['op', 'status'], registers: [registry] }),
    duration: new Histogram({
      name: 'wopi_bridge_request_duration_seconds',
      help: 'Request duration by WOPI operation',
      labelNames: ['op'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    bytes: new Counter({ name: 'wopi_bridge_body_bytes_total', help: 'File bytes streamed by GetFile/PutFile/PutRelativeFile', labelNames: ['op'], registers: [registry] }),
    lockConflicts: new Counter({ name: 'wopi_bridge_lock_conflicts_total', help: '409 answers by operation', labelNames: ['op'], registers: [registry] }),
    conflictCopies: new Counter({ name: 'wopi_bridge_conflict_copies_total', help: 'Saves kept as conflict copies instead of overwriting', registers: [registry] }),
    proofRejections: new Counter({ name: 'wopi_bridge_proof_rejections_total', help: 'WOPI requests refused for their proof', labelNames: ['reason'], registers: [registry] }),
    checkStatus: new Gauge({ name: 'wopi_bridge_check_status', help: 'Latest result of each diagnostic (1 = this status)', labelNames: ['id', 'status'], registers: [registry] }),
  };
}

/** What the access line knows about a finished request. */
export interface RequestOutcome {
  op?: string;
  status: number;
  ms: number;
  bytes?: number;
  result?: string;
  code?: string;
  detail?: Record<string, unknown>;
}

/** Records one finished request. */
export function observeRequest(m: Metrics, o: RequestOutcome): void {
  const op = o.op ?? 'other';
  m.requests.inc({ op, status: String(o.status) });
  m.duration.observe({ op }, o.ms / 1000);
  if (o.bytes !== undefined && o.status < 400) m.bytes.inc({ op }, o.bytes);
  if (o.status === 409) m.lockConflicts.inc({ op });
  if (o.result === 'conflict_copy') m.conflictCopies.inc();
  if (o.code === 'proof_rejected') m.proofRejections.inc({ reason: String(o.detail?.reason ?? 'unknown') });
}
