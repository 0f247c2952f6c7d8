/**
 * Benchmark 2: the bridge's resident memory while it streams a 2 GiB file each way, against its idle RSS and against
 * the same transfer of 256 MiB. Each transfer runs in a fresh bridge process, so VmHWM (the kernel's peak RSS of the
 * process) is the peak of that transfer; VmRSS is also sampled every 20 ms. The data is generated on the fly and
 * hashed on both ends, so nothing is held in memory and the bytes are checked.
 *
 * On the embedded drive the WebDAV server runs inside the bridge process, so its memory counts too.
 *
 * @module
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { buildRoot, readProcMemory, startBenchBridge, startRclone, type BenchBridge, type DriveKind } from './bridgeProcess.js';
import { BenchHttp, basicAuth } from './httpClient.js';
import { startRelay } from './relay.js';
import { DavClient, expectOk } from './clients.js';
import type { BenchContext } from './context.js';
import { GiB, MiB, pseudoRandomStream, sizeLabel } from './data.js';
import { verdict, type Row, type SectionResult } from './report.js';
import { fmt, median } from './stats.js';
import type { RcloneWebdav } from '../helpers/rcloneWebdav.js';

/** Free space the 2 GiB runs need: source and target files, a temporary upload, and margin. */
const NEEDED_FREE_BYTES = 6 * GiB;
const MB = 1e6;
const PEAK_LIMIT = 120 * MB;
/**
 * "Not growing with file size": the 2 GiB peak exceeds the 256 MiB peak by less than GROWTH_LIMIT (an 8× larger file;
 * garbage-collection timing alone moves peaks by ±20 MB between runs), and within the 2 GiB transfer the highest RSS
 * of its last quarter exceeds that of its first quarter by less than TREND_LIMIT (holding even 1% of the body would
 * add ~15 MB between them).
 */
const GROWTH_LIMIT = 25 * MB;
const TREND_LIMIT = 10 * MB;

/** What {@link sampleRss} saw. */
export interface RssSamples {
  maxRss: number;
  /** Highest VmRSS in the first and in the last quarter of the sampling time: a body held in memory grows between them. */
  firstQuarterMax: number;
  lastQuarterMax: number;
  samples: number;
}

/** Samples VmRSS of a process every `everyMs` until stopped. */
export function sampleRss(pid: number, everyMs = 20): { stop(): RssSamples } {
  const points: Array<[number, number]> = [];
  const tick = (): void => {
    try {
      points.push([performance.now(), readProcMemory(pid).rss]);
    } catch {
      // the process is gone
    }
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      const t0 = points[0]?.[0] ?? 0;
      const span = (points[points.length - 1]?.[0] ?? 0) - t0;
      const maxIn = (from: number, to: number): number => Math.max(0, ...points.filter(([t]) => t - t0 >= from * span && t - t0 <= to * span).map(([, r]) => r));
      return { maxRss: Math.max(0, ...points.map(([, r]) => r)), firstQuarterMax: maxIn(0, 0.25), lastQuarterMax: maxIn(0.75, 1), samples: points.length };
    },
  };
}

/**
 * The same download through a bare Node relay (relay.ts: pipes, no code of ours, default V8 and malloc settings):
 * how much any Node process grows while it streams, for comparison with the bridge's growth over its idle RSS.
 */
async function relayPeak(rclone: RcloneWebdav, size: number, sha256: string): Promise<{ idle: number; hwm: number }> {
  const relay = await startRelay(rclone.url, path.join(buildRoot(), 'test/bench/relay.js'));
  const http = new BenchHttp(relay.url, 1);
  try {
    const idle = readProcMemory(relay.pid).rss;
    const r = expectOk(await new DavClient(http, '', basicAuth(rclone.user, rclone.pass)).get(`/mem-${size}.bin`, 'sha256'), 'GET through the relay');
    if (r.sha256 !== sha256) throw new Error('GET through the relay: wrong bytes');
    return { idle, hwm: readProcMemory(relay.pid).hwm };
  } finally {
    http.close();
    await relay.stop();
  }
}

/** A few requests of every kind, so the code paths are loaded before idle RSS is read. */
async function warmUp(bridge: BenchBridge, dav: DavClient): Promise<void> {
  const wopi = bridge.wopi(1);
  expectOk(await dav.put('/mem-warmup.bin', pseudoRandomStream(256 * 1024, 'warm'), 256 * 1024), 'seed warm-up file');
  const f = await bridge.open('/mem-warmup.bin');
  for (let i = 0; i < 5; i++) {
    expectOk(await wopi.checkFileInfo(f), 'warm-up CheckFileInfo');
    expectOk(await wopi.lock(f, 'warm'), 'warm-up Lock');
    expectOk(await wopi.getFile(f), 'warm-up GetFile');
    expectOk(await wopi.putFile(f, pseudoRandomStream(256 * 1024, `warm-${i}`), 256 * 1024, 'warm'), 'warm-up PutFile');
    expectOk(await wopi.unlock(f, 'warm'), 'warm-up Unlock');
  }
  wopi.http.close();
}

interface Measured {
  drive: DriveKind;
  direction: 'GetFile' | 'PutFile';
  size: number;
  startRss: number;
  idleRss: number;
  /** RssAnon and RssFile at idle. */
  idleAnon: number;
  idleFile: number;
  peakHwm: number;
  sampled: RssSamples;
  MiBs: number;
}

/**
 * Runs the memory measurement on each drive.
 * @param ctx the runner's context
 */
export async function runMemory(ctx: BenchContext): Promise<SectionResult> {
  const small = ctx.quick ? 64 * MiB : 256 * MiB;
  const big = ctx.quick ? 256 * MiB : 2 * GiB;
  const free = await statfs(ctx.workDir).then((s) => s.bavail * s.bsize);
  if (free < NEEDED_FREE_BYTES) {
    const note = `only ${fmt(free / GiB)} GiB free under ${ctx.workDir}; the 2 GiB runs need ${NEEDED_FREE_BYTES / GiB} GiB (set BENCH_TMPDIR to a roomier folder)`;
    return { rows: [{ section: '2', figure: 'Peak RSS streaming 2 GiB', measured: '—', target: '< 120 MB', verdict: 'SKIP', note }], details: { skipped: note } };
  }
  const rows: Row[] = [];
  const results: Measured[] = [];
  let relay: { idle: number; hwm: number } | null = null;
  for (const drive of ['embedded', 'rclone'] as const) {
    const filesDir = path.join(ctx.workDir, 'memory-embedded-files');
    let rclone: RcloneWebdav | undefined;
    const start = (label: string): Promise<BenchBridge> =>
      startBenchBridge({ label, drive, workDir: ctx.workDir, filesDir, ...(rclone ? { rclone } : {}), ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
    const sha = new Map<number, string>();
    try {
      ctx.progress('2 memory', `${drive}: seeding ${sizeLabel(small)} and ${sizeLabel(big)}`);
      if (drive === 'embedded') {
        // Written to the served folder directly: seeding through a bridge would count in that bridge's peak.
        await mkdir(filesDir, { recursive: true });
        for (const size of [small, big]) {
          const g = pseudoRandomStream(size, `mem-${size}`, { hash: true });
          await pipeline(g, createWriteStream(path.join(filesDir, `mem-${size}.bin`)));
          sha.set(size, g.sha256());
        }
      } else {
        rclone = await startRclone(ctx.workDir);
        const seeder = await start('memory-seed');
        const dav = seeder.dav(1);
        for (const size of [small, big]) {
          const g = pseudoRandomStream(size, `mem-${size}`, { hash: true });
          expectOk(await dav.put(`/mem-${size}.bin`, g, size), `seed ${sizeLabel(size)}`);
          sha.set(size, g.sha256());
        }
        await seeder.stop();
      }
      for (const direction of ['GetFile', 'PutFile'] as const) {
        for (const size of [small, big]) {
          const bridge = await start(`memory-${drive}-${direction}-${size}`);
          try {
            const startRss = bridge.memory().rss;
            const dav = bridge.dav(1);
            await warmUp(bridge, dav);
            await delay(500);
            const idle: number[] = [];
            for (let i = 0; i < 5; i++) {
              idle.push(bridge.memory().rss);
              await delay(100);
            }
            const { anon: idleAnon, file: idleFile } = bridge.memory();
            const wopi = bridge.wopi(1);
            let MiBs: number;
            const sampler = sampleRss(bridge.pid);
            ctx.progress('2 memory', `${drive}: ${direction} ${sizeLabel(size)}`);
            if (direction === 'GetFile') {
              const f = await bridge.open(`/mem-${size}.bin`);
              const r = expectOk(await wopi.getFile(f, 'sha256', size), `GetFile ${sizeLabel(size)}`);
              if (r.sha256 !== sha.get(size)) throw new Error(`GetFile ${sizeLabel(size)} on ${drive}: wrong bytes`);
              MiBs = size / MiB / (r.ms / 1000);
            } else {
              const target = `/mem-put-${size}.bin`;
              expectOk(await dav.put(target, Buffer.alloc(0), 0), 'create the PutFile target');
              const f = await bridge.open(target);
              expectOk(await wopi.lock(f, 'mem'), 'Lock');
              const g = pseudoRandomStream(size, `mem-put-${size}`, { hash: true });
              const r = expectOk(await wopi.putFile(f, g, size, 'mem'), `PutFile ${sizeLabel(size)}`);
              MiBs = size / MiB / (r.ms / 1000);
              const sampled = sampler.stop();
              const hwm = bridge.memory().hwm;
              const back = await dav.get(target, 'sha256');
              if (back.sha256 !== g.sha256()) throw new Error(`PutFile ${sizeLabel(size)} on ${drive}: the drive holds other bytes`);
              await dav.delete(target);
              results.push({ drive, direction, size, startRss, idleRss: median(idle), idleAnon, idleFile, peakHwm: hwm, sampled, MiBs });
              continue;
            }
            const sampled = sampler.stop();
            results.push({ drive, direction, size, startRss, idleRss: median(idle), idleAnon, idleFile, peakHwm: bridge.memory().hwm, sampled, MiBs });
          } finally {
            await bridge.stop();
          }
        }
      }
      if (rclone) relay = await relayPeak(rclone, big, sha.get(big) as string);
    } finally {
      await rclone?.stop();
      await rm(filesDir, { recursive: true, force: true });
      if (rclone) await rm(rclone.dir, { recursive: true, force: true });
    }
    for (const direction of ['GetFile', 'PutFile'] as const) {
      const a = results.find((r) => r.drive === drive && r.direction === direction && r.size === small) as Measured;
      const b = results.find((r) => r.drive === drive && r.direction === direction && r.size === big) as Measured;
      const growth = b.peakHwm - a.peakHwm;
      const trend = b.sampled.lastQuarterMax - b.sampled.firstQuarterMax;
      const signed = (v: number): string => `${v >= 0 ? '+' : ''}${fmt(v / MB)}`;
      rows.push({
        section: '2',
        figure: `Peak RSS ${direction} ${sizeLabel(big)}, ${drive}`,
        measured: `${fmt(b.peakHwm / MB)} MB (idle ${fmt(b.idleRss / MB)}; ${sizeLabel(small)}: ${fmt(a.peakHwm / MB)}, ${signed(growth)}; last vs first quarter ${signed(trend)})`,
        target: `< ${PEAK_LIMIT / MB} MB, flat`,
        verdict: verdict(b.peakHwm < PEAK_LIMIT && growth < GROWTH_LIMIT && trend < TREND_LIMIT),
      });
    }
  }
  if (relay !== null) {
    rows.push({
      section: '2',
      figure: `ceiling: bare Node relay peak RSS, GET ${sizeLabel(big)} from rclone`,
      measured: `${fmt(relay.hwm / MB)} MB (idle ${fmt(relay.idle / MB)}, ${fmt((relay.hwm - relay.idle) / MB)} MB more while streaming)`,
      target: '',
      verdict: 'INFO',
    });
  }
  const idle = results.map((r) => r.idleRss);
  const anon = results.map((r) => r.idleAnon);
  const file = results.map((r) => r.idleFile);
  rows.push({
    section: '2',
    figure: 'Idle RSS of the bridge (after warm-up)',
    measured: `${fmt(median(idle) / MB)} MB median (own memory ${fmt(median(anon) / MB)} MB + mapped files ${fmt(median(file) / MB)} MB)`,
    target: '',
    verdict: 'INFO',
  });
  return {
    rows,
    details: {
      unit: 'bytes',
      results: results.map((r) => ({ ...r, sizeLabel: sizeLabel(r.size) })),
    },
  };
}
