/**
 * Benchmark 3: CheckFileInfo against the single PROPFIND it makes the bridge send (the same Depth-0 PROPFIND of the
 * same file, sent directly to the drive): latency with one client, alternating the two request by request, and
 * requests per second at 1, 16 and 64 concurrent keep-alive clients.
 *
 * @module
 */
import { WebdavStorage } from '../../connector/src/storage/webdav/WebdavStorage.js';
import { parseMultistatus } from '../../connector/src/storage/webdav/parseMultistatus.js';
import { startBenchBridge, startRclone, type DriveAccess, type DriveKind } from './bridgeProcess.js';
import { DavClient, expectOk, type WopiClient, type WopiFile } from './clients.js';
import { BenchHttp, basicAuth } from './httpClient.js';
import type { BenchContext } from './context.js';
import { pseudoRandomStream } from './data.js';
import { closedLoop, cpuMsOf, mapLimit, Recorder, type CpuUse } from './load.js';
import { verdict, type Row, type SectionResult } from './report.js';
import { fmt, median, ms, rounded, summarize } from './stats.js';

export const CFI_FILE_SIZE = 4096;

/**
 * Seeds `count` small files and opens them through the bridge.
 * @returns the opened files
 */
export async function seedCfiFiles(bridge: { open(p: string): Promise<WopiFile> }, dav: DavClient, count: number): Promise<WopiFile[]> {
  const paths = Array.from({ length: count }, (_, i) => `/cfi-${i}.docx`);
  await mapLimit(paths, 8, async (p) => expectOk(await dav.put(p, pseudoRandomStream(CFI_FILE_SIZE, p), CFI_FILE_SIZE), `seed ${p}`));
  return mapLimit(paths, 8, (p) => bridge.open(p));
}

/** Checks a CheckFileInfo answer describes the file (name and size); null when it does. */
export function checkCfiBody(body: Buffer | undefined, f: WopiFile, size: number): string | null {
  try {
    const info = JSON.parse((body ?? Buffer.alloc(0)).toString('utf8')) as Record<string, unknown>;
    if (info.BaseFileName !== f.path.slice(1) || info.Size !== size) return `unexpected CheckFileInfo ${JSON.stringify(info).slice(0, 200)}`;
    return null;
  } catch {
    return 'CheckFileInfo body is not JSON';
  }
}

/** Checks a PROPFIND answer is a 207 multistatus; null when it is. */
export function checkPropfind(status: number, body: Buffer | undefined): string | null {
  return status === 207 && (body ?? Buffer.alloc(0)).includes('multistatus') ? null : `PROPFIND answered ${status}`;
}

/**
 * Runs the latency and rate comparisons on each drive.
 * @param ctx the runner's context
 */
export async function runCheckFileInfo(ctx: BenchContext): Promise<SectionResult> {
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  const pairs = ctx.quick ? 500 : 3000;
  const durationMs = ctx.quick ? 1500 : 4000;
  for (const drive of ['embedded', 'rclone'] as DriveKind[]) {
    const rclone = drive === 'rclone' ? await startRclone(ctx.workDir) : undefined;
    const bridge = await startBenchBridge({ label: `cfi-${drive}`, drive, workDir: ctx.workDir, ...(rclone ? { rclone } : {}), ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
    try {
      const setupDav = bridge.dav(8);
      const files = await seedCfiFiles(bridge, setupDav, 64);

      // Latency: one client, CheckFileInfo and PROPFIND alternating (order swapped every pair).
      ctx.progress('3 CheckFileInfo', `${drive}: latency, ${pairs} pairs`);
      const wopi1 = bridge.wopi(1);
      const dav1 = bridge.dav(1);
      const rec = new Recorder();
      const diffs: number[] = [];
      const until = performance.now() + (ctx.quick ? 10_000 : 30_000);
      for (let i = -200; i < pairs && performance.now() < until; i++) {
        rec.enabled = i >= 0;
        const f = files[Math.abs(i) % files.length] as WopiFile;
        const cfi = (): Promise<number> => timedCfi(rec, wopi1, f);
        const pf = (): Promise<number> => timedPropfind(rec, dav1, f.path);
        let a: number;
        let b: number;
        if (i % 2 === 0) {
          a = await cfi();
          b = await pf();
        } else {
          b = await pf();
          a = await cfi();
        }
        if (i >= 0) diffs.push(a - b);
      }
      const c = rec.summary('CheckFileInfo');
      const p = rec.summary('PROPFIND');
      const errors = rec.errors();
      rows.push({
        section: '3',
        figure: `CheckFileInfo p50 / p99, ${drive} (1 client)`,
        measured: `${ms(c.p50)} / ${ms(c.p99)} vs PROPFIND ${ms(p.p50)} / ${ms(p.p99)}: +${ms(c.p50 - p.p50)} at p50`,
        target: 'p50 ≤ PROPFIND p50 + 1 ms',
        verdict: errors > 0 ? 'FAIL' : verdict(c.p50 <= p.p50 + 1),
        ...(errors > 0 ? { note: `${errors} errors: ${rec.firstErrors.join('; ')}` } : {}),
      });
      details[`${drive}/latency`] = { checkFileInfoMs: rounded(c), propfindMs: rounded(p), pairedDifferenceMs: rounded(summarize(diffs)), medianDifferenceMs: median(diffs), errors, firstErrors: rec.firstErrors };

      // Rate at 1, 16, 64 clients; the direct PROPFIND rate at the same concurrency is the drive's ceiling.
      for (const concurrency of [1, 16, 64]) {
        ctx.progress('3 CheckFileInfo', `${drive}: rate at ${concurrency} clients`);
        const wopi = bridge.wopi(concurrency);
        const dav = bridge.dav(concurrency);
        const cfiLoop = await closedLoop({
          concurrency,
          durationMs,
          maxOps: 500_000,
          warmupMs: 500,
          serverPid: bridge.pid,
          task: async (client, it, r) => {
            const f = files[(client * 7 + it) % files.length] as WopiFile;
            // Every 16th answer is parsed and checked: parsing all would load the client more than the PROPFIND side.
            await timedCfi(r, wopi, f, it % 16 === 0);
          },
        });
        const pfLoop = await closedLoop({
          concurrency,
          durationMs,
          maxOps: 500_000,
          warmupMs: 500,
          serverPid: bridge.pid,
          task: async (client, it, r) => {
            const f = files[(client * 7 + it) % files.length] as WopiFile;
            await timedPropfind(r, dav, f.path);
          },
        });
        wopi.http.close();
        dav.http.close();
        const cs = cfiLoop.recorder.summary();
        const errs = cfiLoop.recorder.errors() + pfLoop.recorder.errors();
        const judged = drive === 'embedded' && concurrency === 64;
        const cpu = cfiLoop.cpu as CpuUse;
        // On the embedded drive the WebDAV server runs in the bridge process: its share (the CPU per direct PROPFIND
        // in the same process) is taken out to give the bridge's own cost.
        const ownCpu = drive === 'embedded' ? cpu.serverMsPerRequest - (pfLoop.cpu as CpuUse).serverMsPerRequest : cpu.serverMsPerRequest;
        // The bridge and the embedded drive share one JavaScript thread: its CPU per CheckFileInfo (both parts) bounds
        // the rate whatever the other core does.
        const driveMain = (pfLoop.cpu as CpuUse).serverMainThreadMsPerRequest;
        const ceiling = `; their one JavaScript thread spends ${ms(cpu.serverMainThreadMsPerRequest)} per CheckFileInfo (the drive's PROPFIND alone ${ms(driveMain)}): ≤ ${fmt(1000 / cpu.serverMainThreadMsPerRequest)}/s`;
        rows.push({
          section: '3',
          figure: `CheckFileInfo/s, ${drive}, ${concurrency} clients`,
          measured: `${fmt(cfiLoop.perSecond)}/s (p50 ${ms(cs.p50)}, p99 ${ms(cs.p99)}), bridge at ${fmt(cpu.serverCores * 100, 1)}% of a core, ${ms(ownCpu)} CPU/request; direct PROPFIND ${fmt(pfLoop.perSecond)}/s${judged ? ceiling : ''}`,
          target: judged ? '≥ 2,000/s' : '',
          verdict: errs > 0 ? 'FAIL' : judged ? verdict(cfiLoop.perSecond >= 2000) : 'INFO',
          ...(errs > 0 ? { note: `${errs} errors: ${[...cfiLoop.recorder.firstErrors, ...pfLoop.recorder.firstErrors].slice(0, 3).join('; ')}` } : {}),
        });
        details[`${drive}/rate/${concurrency}`] = {
          checkFileInfoPerSecond: cfiLoop.perSecond,
          propfindPerSecond: pfLoop.perSecond,
          checkFileInfoMs: rounded(cs),
          propfindMs: rounded(pfLoop.recorder.summary()),
          bridgeCpu: cfiLoop.cpu,
          propfindCpuInBridgeProcess: drive === 'embedded' ? pfLoop.cpu : null,
          bridgeOwnCpuMsPerCheckFileInfo: ownCpu,
          errors: errs,
        };
      }
      if (drive === 'rclone') {
        // Where the bridge's CPU per PROPFIND goes: the same stat through the bridge's WebDAV adapter, and the same
        // PROPFIND by bare node:http with and without the adapter's XML parser, in this process (rclone answers in
        // its own), so the CPU measured is the client side alone.
        ctx.progress('3 CheckFileInfo', 'client-side CPU per PROPFIND: adapter vs node:http');
        const cost = await propfindClientCost(bridge.drive, files.map((f) => f.path), ctx.quick ? 300 : 1500);
        rows.push({
          section: '3',
          figure: 'client CPU per PROPFIND: WebdavStorage.stat vs node:http',
          measured: `${ms(cost.adapter)} vs ${ms(cost.bareParsed)} (with parseMultistatus) vs ${ms(cost.bare)} (bare)`,
          target: '',
          verdict: 'INFO',
          note: 'CPU in the calling process per stat(); the difference between the first two is the adapter\'s own request layer (DavClient: idle timer, abort wiring, error mapping, FileInfo), the second minus the third is parseMultistatus',
        });
        details.propfindClientCpuMs = cost;
      }
    } finally {
      await bridge.stop();
      await rclone?.stop();
    }
  }
  return { rows, details };
}

/**
 * CPU of this process per PROPFIND made three ways, alternating batches: WebdavStorage.stat (what the bridge does),
 * node:http + parseMultistatus, node:http alone.
 * @param drive the drive to ask (rclone: another process)
 * @param paths files to stat in turn
 * @param calls calls per way
 * @returns median CPU ms per call for each way
 */
export async function propfindClientCost(drive: DriveAccess, paths: string[], calls: number): Promise<{ adapter: number; bareParsed: number; bare: number }> {
  const storage = new WebdavStorage({ url: drive.url, username: drive.user, password: drive.pass, flavour: 'generic', timeoutMs: 30_000 });
  const u = new URL(drive.url);
  const http = new BenchHttp(u.origin, 1);
  const dav = new DavClient(http, u.pathname === '/' ? '' : u.pathname, basicAuth(drive.user, drive.pass));
  const ways: Record<'adapter' | 'bareParsed' | 'bare', (p: string) => Promise<unknown>> = {
    adapter: (p) => storage.stat(p),
    bareParsed: async (p) => parseMultistatus(((await dav.propfind(p)).body as Buffer).toString('utf8')),
    bare: (p) => dav.propfind(p),
  };
  const perCall: Record<string, number[]> = { adapter: [], bareParsed: [], bare: [] };
  const batch = 50;
  try {
    for (const way of Object.keys(ways) as Array<keyof typeof ways>) for (let i = 0; i < batch; i++) await ways[way](paths[i % paths.length] as string);
    for (let done = 0; done < calls; done += batch) {
      for (const way of Object.keys(ways) as Array<keyof typeof ways>) {
        const c0 = cpuMsOf();
        for (let i = 0; i < batch; i++) await ways[way](paths[(done + i) % paths.length] as string);
        (perCall[way] as number[]).push((cpuMsOf() - c0) / batch);
      }
    }
  } finally {
    http.close();
    await storage.close();
  }
  return { adapter: median(perCall.adapter as number[]), bareParsed: median(perCall.bareParsed as number[]), bare: median(perCall.bare as number[]) };
}

/** One CheckFileInfo, checked (200, and with checkBody the file's name and size), recorded; returns its latency. */
export async function timedCfi(rec: Recorder, wopi: WopiClient, f: WopiFile, checkBody = true): Promise<number> {
  const r = await rec.time('CheckFileInfo', () => wopi.checkFileInfo(f), checkBody ? (res) => checkCfiBody(res.body, f, CFI_FILE_SIZE) : undefined);
  return r?.ms ?? Number.NaN;
}

/** One direct PROPFIND, checked (207), recorded; returns its latency. */
export async function timedPropfind(rec: Recorder, dav: DavClient, p: string): Promise<number> {
  const r = await rec.time('PROPFIND', () => dav.propfind(p), (res) => checkPropfind(res.status, res.body));
  return r?.ms ?? Number.NaN;
}
