import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Bytes of file bodies that may cross the bridge between two young-generation collections.
 *
 * Every chunk of a body is a Buffer of its own (a 64 KiB socket or file read). To V8 each one is a small object
 * whose memory lives outside the heap, so the young generation fills — and the chunks already sent become
 * collectable — only after some 30–45 MB of them. A bare Node relay with no code of ours grows by ~45 MB while it
 * streams a large file; the bridge grew the same, on top of its idle ~95 MB. Collecting after every BUDGET bytes
 * keeps that garbage near BUDGET (twice it over the embedded drive, whose server reads the file in this process).
 * Measured on 2 cores (test/bench/README.md, "Memory"): peak RSS streaming 2 GiB 128–148 MB without, 101–116 MB
 * with it; the bridge's CPU per 256 MiB GetFile the same with and without (420 ms over rclone): a young generation of
 * dead chunks costs almost nothing to collect.
 */
export const STREAM_GC_BUDGET = 2 * 1024 * 1024;

/** Collects V8's young generation now. */
export type Collect = () => void;

/**
 * Every MAJOR_EVERY young collections (256 MiB of bodies), a full one, started asynchronously. A chunk still in
 * flight when two young collections pass is moved to the old generation, where only a full collection frees it: over
 * the embedded drive, whose server streams the file inside this process, such chunks made the 2 GiB download grow by
 * 9–18 MB between its first and last quarter (peak 128–132 MB); with this, ≤ 2.7 MB (peak 112 MB). Not more often:
 * a full collection every 32 MiB cut GetFile throughput at 256 MiB from 1.01× to 0.63× of direct (embedded) and from
 * 0.78× to 0.53× (rclone); every 256 MiB it stayed at 1.00× and 0.62× (the bare relay: 0.84× and 0.71×, same run).
 */
const MAJOR_EVERY = 128;

/**
 * V8's gc() (young collections, and every MAJOR_EVERY-th time a full one), reached without starting Node with
 * --expose-gc: the flag applies to contexts created after it is set.
 */
export function streamCollector(): Collect | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc !== 'function') return null;
    const run = gc as (o: { type: 'minor' | 'major'; execution?: 'async' }) => unknown;
    let n = 0;
    let marking = false;
    return () => {
      run({ type: 'minor' });
      if (++n % MAJOR_EVERY !== 0 || marking) return;
      // Marks concurrently (the promise settles when done); one at a time.
      marking = true;
      void Promise.resolve(run({ type: 'major', execution: 'async' })).finally(() => (marking = false));
    };
  } catch {
    return null;
  }
}

/**
 * A counter of streamed bytes that calls `collect` once per `budget` bytes.
 * @param budget bytes between two calls
 * @param collect the collection; resolved on first use (null = none available, counting only)
 */
export function streamGc(budget: number, collect: () => Collect | null): (bytes: number) => void {
  let resolved: Collect | null | undefined;
  let sinceLast = 0;
  return (bytes) => {
    sinceLast += bytes;
    if (sinceLast < budget) return;
    sinceLast = 0;
    if (resolved === undefined) resolved = collect();
    resolved?.();
  };
}

/**
 * Counts body bytes that crossed the bridge (either direction, all requests together) and collects the young
 * generation once STREAM_GC_BUDGET of them passed since the last time. Small bodies add up to the budget too, which
 * costs nothing noticeable: one collection per 2 MiB.
 * @param bytes the length of a chunk that was just passed on
 */
export const countStreamed: (bytes: number) => void = streamGc(STREAM_GC_BUDGET, streamCollector);

/**
 * Keeps V8's young generation at its starting size instead of letting it grow to 16 MB semi-spaces under load: with
 * STREAM_GC_BUDGET collecting it often anyway, a grown young generation only adds ~15 MB of resident memory, idle or
 * busy (heap 38 → 23 MB at idle). The Lock and CheckFileInfo rates did not change beyond this machine's noise.
 * Process-wide; called once by the entry point (main.ts), not by library code.
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
