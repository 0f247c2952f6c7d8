/**
 * Benchmark 1: GetFile and PutFile throughput through the bridge vs a direct GET / PUT of a file of the same size on
 * the same WebDAV server, alternating (ABBA) so drift on this shared machine hits both alike; the figure is the
 * median of the per-pair ratios.
 *
 * @module
 */
import path from 'node:path';
import { buildRoot, startBenchBridge, startRclone, type BenchBridge, type DriveKind } from './bridgeProcess.js';
import { BenchHttp, basicAuth } from './httpClient.js';
import { startRelay } from './relay.js';
import { DavClient, expectOk, type WopiClient, type WopiFile } from './clients.js';
import type { BenchContext } from './context.js';
import { MiB, pseudoRandomStream, sizeLabel } from './data.js';
import type { HttpResult } from './httpClient.js';
import { verdict, type Row, type SectionResult } from './report.js';
import { fmt, median } from './stats.js';
import { cpuMsOf } from './load.js';

/** Lock id the bench holds on its PutFile targets. */
export const THROUGHPUT_LOCK = 'bench-throughput-lock';

/** The files of one size: a source for GetFile and one target each for the bridge's and the direct PUT. */
export interface SizeFiles {
  size: number;
  source: WopiFile;
  sourceSha: string;
  bridgeTarget: WopiFile;
  directTargetPath: string;
}

/**
 * Seeds the files of one size on the drive (direct PUTs of generated data), opens them through the bridge and locks
 * the bridge's PutFile target.
 */
export async function prepareSizeFiles(bridge: BenchBridge, wopi: WopiClient, dav: DavClient, size: number): Promise<SizeFiles> {
  const base = `/tp-${size}`;
  const src = pseudoRandomStream(size, `${base}-source`, { hash: true });
  expectOk(await dav.put(`${base}.bin`, src, size), `seed ${base}.bin`);
  for (const p of [`${base}-via-bridge.bin`, `${base}-direct.bin`]) expectOk(await dav.put(p, pseudoRandomStream(size, `${p}-seed`), size), `seed ${p}`);
  const source = await bridge.open(`${base}.bin`);
  const bridgeTarget = await bridge.open(`${base}-via-bridge.bin`);
  expectOk(await wopi.lock(bridgeTarget, THROUGHPUT_LOCK), 'lock the PutFile target');
  return { size, source, sourceSha: src.sha256(), bridgeTarget, directTargetPath: `${base}-direct.bin` };
}

/** Checks a transfer answered 2xx with the whole body; returns its MiB/s. */
function rate(r: HttpResult, bytes: number, what: string): number {
  expectOk(r, what);
  return bytes / MiB / (r.ms / 1000);
}

/** One GetFile through the bridge, timed; returns MiB/s. */
export async function bridgeGet(wopi: WopiClient, f: SizeFiles): Promise<number> {
  const r = await wopi.getFile(f.source);
  if (r.status === 200 && r.bytes !== f.size) throw new Error(`GetFile sent ${r.bytes} of ${f.size} bytes`);
  return rate(r, f.size, 'GetFile');
}

/** One direct GET of the same file, timed; returns MiB/s. */
export async function directGet(dav: DavClient, f: SizeFiles): Promise<number> {
  const r = await dav.get(f.source.path);
  if (r.status === 200 && r.bytes !== f.size) throw new Error(`GET sent ${r.bytes} of ${f.size} bytes`);
  return rate(r, f.size, 'direct GET');
}

/** One PutFile of generated data through the bridge, timed; returns MiB/s. */
export async function bridgePut(wopi: WopiClient, f: SizeFiles, seed: string): Promise<number> {
  return rate(await wopi.putFile(f.bridgeTarget, pseudoRandomStream(f.size, seed), f.size, THROUGHPUT_LOCK), f.size, 'PutFile');
}

/** One direct PUT of generated data of the same size, timed; returns MiB/s. */
export async function directPut(dav: DavClient, f: SizeFiles, seed: string): Promise<number> {
  return rate(await dav.put(f.directTargetPath, pseudoRandomStream(f.size, seed), f.size), f.size, 'direct PUT');
}

interface Series {
  bridge: number[];
  direct: number[];
  ratios: number[];
  /** CPU ms of the bridge process per MiB, through the bridge and during the direct transfer. */
  bridgeCpu: number[];
  directCpu: number[];
}

/**
 * Runs the comparison on each drive and size.
 * @param ctx the runner's context
 */
export async function runThroughput(ctx: BenchContext): Promise<SectionResult> {
  const sizes = ctx.quick ? [1 * MiB, 16 * MiB] : [1 * MiB, 64 * MiB, 256 * MiB];
  const targetSize = sizes[sizes.length - 1] as number;
  const repsFor = (size: number): number => (size <= 1 * MiB ? 20 : size <= 64 * MiB ? 7 : 7);
  const drives: DriveKind[] = ['embedded', 'rclone'];
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  for (const drive of drives) {
    const rclone = drive === 'rclone' ? await startRclone(ctx.workDir) : undefined;
    const bridge = await startBenchBridge({ label: `throughput-${drive}`, drive, workDir: ctx.workDir, ...(rclone ? { rclone } : {}), ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
    const wopi = bridge.wopi(1);
    const dav = bridge.dav(1);
    try {
      for (const size of sizes) {
        const label = sizeLabel(size);
        ctx.progress('1 throughput', `${drive} ${label}: seeding`);
        const f = await prepareSizeFiles(bridge, wopi, dav, size);
        // Untimed correctness round (also the warm-up): bytes through the bridge equal the generator's both ways.
        const got = await wopi.getFile(f.source, 'sha256');
        if (got.status !== 200 || got.sha256 !== f.sourceSha) throw new Error(`GetFile ${label} on ${drive}: status ${got.status}, wrong bytes`);
        const put = pseudoRandomStream(size, 'verify-put', { hash: true });
        expectOk(await wopi.putFile(f.bridgeTarget, put, size, THROUGHPUT_LOCK), `PutFile ${label}`);
        const back = await dav.get(f.bridgeTarget.path, 'sha256');
        if (back.sha256 !== put.sha256()) throw new Error(`PutFile ${label} on ${drive}: the drive holds other bytes than were sent`);
        await directGet(dav, f);
        await directPut(dav, f, 'warmup');

        const reps = ctx.quick ? Math.min(5, repsFor(size)) : repsFor(size);
        const get: Series = { bridge: [], direct: [], ratios: [], bridgeCpu: [], directCpu: [] };
        const putS: Series = { bridge: [], direct: [], ratios: [], bridgeCpu: [], directCpu: [] };
        // CPU of the bridge process per MiB moved (on the embedded drive the WebDAV server's share is in it too).
        const cpuPerMiB = async (fn: () => Promise<number>): Promise<[number, number]> => {
          const c0 = cpuMsOf(bridge.pid);
          const rateMiBs = await fn();
          return [rateMiBs, (cpuMsOf(bridge.pid) - c0) / (size / MiB)];
        };
        const alternate = async (s: Series, viaBridge: () => Promise<number>, direct: () => Promise<number>): Promise<void> => {
          for (let i = 0; i < reps; i++) {
            // ABBA: the bridge first on even repetitions, the direct request first on odd ones.
            const order = i % 2 === 0 ? ['bridge', 'direct'] : ['direct', 'bridge'];
            const got: Record<string, [number, number]> = {};
            for (const which of order) got[which] = await cpuPerMiB(which === 'bridge' ? viaBridge : direct);
            const [b, bc] = got.bridge as [number, number];
            const [d, dc] = got.direct as [number, number];
            s.bridge.push(b);
            s.direct.push(d);
            s.ratios.push(b / d);
            s.bridgeCpu.push(bc);
            s.directCpu.push(dc);
          }
        };
        let rep = 0;
        await alternate(get, () => bridgeGet(wopi, f), () => directGet(dav, f));
        ctx.progress('1 throughput', `${drive} ${label}: GetFile ratio ${fmt(median(get.ratios))}`);
        await alternate(putS, () => bridgePut(wopi, f, `put-b-${rep++}`), () => directPut(dav, f, `put-d-${rep++}`));
        ctx.progress('1 throughput', `${drive} ${label}: PutFile ratio ${fmt(median(putS.ratios))}`);
        const relayRows: Row[] = [];
        if (size === targetSize) {
          // The same transfers through a bare Node relay process (relay.ts): the floor of one more hop here.
          ctx.progress('1 throughput', `${drive} ${label}: bare relay vs direct`);
          const relay = await startRelay(bridge.drive.url, path.join(buildRoot(), 'test/bench/relay.js'));
          const relayHttp = new BenchHttp(relay.url, 1);
          const viaRelay = new DavClient(relayHttp, '', basicAuth(bridge.drive.user, bridge.drive.pass));
          try {
            await directGet(viaRelay, f);
            const rGet: Series = { bridge: [], direct: [], ratios: [], bridgeCpu: [], directCpu: [] };
            const rPut: Series = { bridge: [], direct: [], ratios: [], bridgeCpu: [], directCpu: [] };
            await alternate(rGet, () => directGet(viaRelay, f), () => directGet(dav, f));
            await alternate(rPut, () => directPut(viaRelay, f, `relay-${rep++}`), () => directPut(dav, f, `put-d-${rep++}`));
            for (const [op, r, b] of [
              ['GetFile', rGet, get],
              ['PutFile', rPut, putS],
            ] as const) {
              relayRows.push({
                section: '1',
                figure: `ceiling: bare Node relay ${op === 'GetFile' ? 'GET' : 'PUT'} ${label}, ${drive}`,
                measured: `${fmt(median(r.ratios))}× of direct (bridge: ${fmt(median(b.ratios))}×)`,
                target: '',
                verdict: 'INFO',
              });
              details[`${drive}/relay/${op}/${label}`] = { ratios: r.ratios, relayMiBs: r.bridge, directMiBs: r.direct, medianRatio: median(r.ratios) };
            }
          } finally {
            relayHttp.close();
            await relay.stop();
          }
        }
        for (const [op, s] of [
          ['GetFile', get],
          ['PutFile', putS],
        ] as const) {
          const ratio = median(s.ratios);
          const judged = size === targetSize;
          rows.push({
            section: '1',
            figure: `${op} ${label}, ${drive}: bridge / direct`,
            measured: `${fmt(ratio)}× (${fmt(median(s.bridge))} vs ${fmt(median(s.direct))} MiB/s, median of ${s.ratios.length})`,
            target: judged ? '≥ 0.95×' : '',
            verdict: judged ? verdict(ratio >= 0.95) : 'INFO',
          });
          details[`${drive}/${op}/${label}`] = {
            reps: s.ratios.length,
            bridgeMiBs: s.bridge,
            directMiBs: s.direct,
            ratios: s.ratios,
            medianRatio: ratio,
            bridgeProcessCpuMsPerMiB: { viaBridge: median(s.bridgeCpu), duringDirect: median(s.directCpu) },
          };
        }
        rows.push(...relayRows);
      }
    } finally {
      await bridge.stop();
      await rclone?.stop();
    }
  }
  return { rows, details };
}
