/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, written by `npm run bench -- --cpu-prof`): self time by function
 * (mapped back to the TypeScript file:line through dist's source maps) and inclusive time by module, so a bottleneck
 * can be named without a flame-graph viewer.
 *
 *   node dist/bench/test/bench/profileSummary.js bench-results/profiles/<file>.cpuprofile [top]
 *   node dist/bench/test/bench/profileSummary.js <file>.cpuprofile 5 --callers=createPublicKey   # who calls it
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** One line of a summary. */
export interface ProfileLine {
  what: string;
  ms: number;
  percent: number;
}

/** A profile's summary. */
export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Share of the time the process was not idle. */
  busyPercent: number;
  selfByFunction: ProfileLine[];
  inclusiveByModule: ProfileLine[];
}

const maps = new Map<string, SourceMap | null>();

function sourceMapFor(file: string): SourceMap | null {
  if (maps.has(file)) return maps.get(file) ?? null;
  let map: SourceMap | null = null;
  const mapFile = `${file}.map`;
  if (existsSync(mapFile)) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      map = null;
    }
  }
  maps.set(file, map);
  return map;
}

/** `connector/src/wopi/operations/lock.ts:26` for a frame in dist/ (source-mapped), else a short url:line. */
function location(frame: CallFrame, root: string): string {
  const url = frame.url;
  if (url === '') return '';
  const line = frame.lineNumber + 1;
  if (url.startsWith('file://')) {
    const file = fileURLToPath(url);
    const map = file.includes(`${path.sep}dist${path.sep}`) ? sourceMapFor(file) : null;
    const entry = map?.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number } | undefined;
    if (entry?.originalSource !== undefined && entry.originalLine !== undefined) {
      const src = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : path.resolve(path.dirname(file), entry.originalSource);
      return `${path.relative(root, src)}:${entry.originalLine + 1}`;
    }
    return `${path.relative(root, file)}:${line}`;
  }
  return `${url}:${line}`;
}

/** The module a frame belongs to: a project file, an npm package, node's internals, or V8's pseudo-frames. */
function moduleOf(frame: CallFrame, root: string): string {
  const url = frame.url;
  if (url === '') return frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] === 'internal' ? url.slice(5).split('/').slice(0, 2).join('/') : url.slice(5)}`;
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = file.lastIndexOf(`node_modules${path.sep}`);
  if (nm >= 0) {
    const rest = file.slice(nm + 'node_modules/'.length).split(path.sep);
    return `npm:${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  return path.relative(root, file).replace(/^dist\/(bench\/)?/, '').replace(/\.js$/, '.ts');
}

/**
 * Summarises one profile.
 * @param file a .cpuprofile
 * @param top how many lines per list
 * @param root project root (for relative paths)
 */
export async function summarizeProfile(file: string, top = 15, root = process.cwd()): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) byId.set(n.id, n);
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const self = new Map<number, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    const dt = Math.max(0, (deltas[i + 1] ?? deltas[i] ?? 0) / 1000);
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
    if (byId.get(id)?.callFrame.functionName === '(idle)') idle += dt;
  }
  const selfBy = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, t] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const fn = node.callFrame.functionName || '(anonymous)';
    const loc = location(node.callFrame, root);
    const key = loc === '' ? fn : `${fn} ${loc}`;
    selfBy.set(key, (selfBy.get(key) ?? 0) + t);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (!frame || frame.functionName === '(root)') continue;
      seen.add(moduleOf(frame, root));
    }
    for (const m of seen) inclusive.set(m, (inclusive.get(m) ?? 0) + t);
  }
  const busy = total - idle;
  const lines = (m: Map<string, number>): ProfileLine[] =>
    [...m.entries()]
      .filter(([k]) => k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([what, ms]) => ({ what, ms: Math.round(ms), percent: busy > 0 ? Math.round((ms / busy) * 1000) / 10 : 0 }));
  return { file, totalMs: Math.round(total), busyPercent: total > 0 ? Math.round((busy / total) * 1000) / 10 : 0, selfByFunction: lines(selfBy), inclusiveByModule: lines(inclusive) };
}

/**
 * Where a function's self time comes from: its callers' stacks (`depth` frames up), heaviest first.
 * @param file a .cpuprofile
 * @param functionName the function (exact name, e.g. `createPublicKey`)
 * @param depth frames of each calling stack to show
 */
export async function callersOf(file: string, functionName: string, depth = 6, top = 10, root = process.cwd()): Promise<ProfileLine[]> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) byId.set(n.id, n);
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const stacks = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    const node = byId.get(id);
    if (node?.callFrame.functionName !== functionName) continue;
    const dt = Math.max(0, (deltas[i + 1] ?? deltas[i] ?? 0) / 1000);
    total += dt;
    const frames: string[] = [];
    for (let cur = parent.get(id); cur !== undefined && frames.length < depth; cur = parent.get(cur)) {
      const f = byId.get(cur)?.callFrame;
      if (!f || f.functionName === '(root)') break;
      frames.push(`${f.functionName || '(anonymous)'} ${location(f, root)}`.trim());
    }
    const key = frames.join(' <- ');
    stacks.set(key, (stacks.get(key) ?? 0) + dt);
  }
  return [...stacks.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([what, ms]) => ({ what, ms: Math.round(ms), percent: total > 0 ? Math.round((ms / total) * 1000) / 10 : 0 }));
}

/**
 * Summarises every .cpuprofile in a folder.
 * @param dir the folder
 * @param top lines per list
 */
export async function summarizeProfiles(dir: string, top = 15): Promise<ProfileSummary[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  const out: ProfileSummary[] = [];
  for (const f of files) out.push(await summarizeProfile(path.join(dir, f), top));
  return out;
}

/** Prints a summary as text. */
export function renderProfile(s: ProfileSummary): string {
  const pct = (l: ProfileLine): string => `${l.percent.toFixed(1).padStart(5)}%  ${String(l.ms).padStart(7)} ms  ${l.what}`;
  return [
    `${s.file}: ${s.totalMs} ms profiled, ${s.busyPercent}% busy (percentages of busy time)`,
    'self time by function:',
    ...s.selfByFunction.map(pct),
    'inclusive time by module:',
    ...s.inclusiveByModule.map(pct),
  ].join('\n');
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const callers = args.find((a) => a.startsWith('--callers='))?.slice('--callers='.length);
  const [file, top] = args.filter((a) => !a.startsWith('--'));
  if (file === undefined) {
    process.stderr.write('usage: node dist/bench/test/bench/profileSummary.js <file.cpuprofile> [top] [--callers=<functionName>]\n');
    process.exit(3);
  }
  const job =
    callers !== undefined
      ? callersOf(file, callers, 8, top === undefined ? 10 : Number(top)).then((lines) => lines.map((l) => `${l.percent.toFixed(1).padStart(5)}%  ${String(l.ms).padStart(7)} ms  ${l.what}`).join('\n'))
      : summarizeProfile(file, top === undefined ? 25 : Number(top)).then(renderProfile);
  job.then(
    (text) => process.stdout.write(text + '\n'),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
