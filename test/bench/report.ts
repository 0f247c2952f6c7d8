/**
 * The bench's output: one row per figure (figure, measured, target, verdict), printed as a table and written with
 * the raw distributions to bench-results/latest.json.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export type Verdict = 'PASS' | 'MISS' | 'INFO' | 'SKIP' | 'FAIL';

/** One line of the table. */
export interface Row {
  /** Benchmark number and name, e.g. `1 throughput`. */
  section: string;
  figure: string;
  measured: string;
  /** '' for an informational figure. */
  target: string;
  verdict: Verdict;
  /** Why skipped / what limits it. */
  note?: string;
}

/** What a benchmark hands back: its rows and its raw data for the JSON. */
export interface SectionResult {
  rows: Row[];
  details: Record<string, unknown>;
}

/**
 * PASS or MISS.
 * @param met whether the target is met
 */
export function verdict(met: boolean): Verdict {
  return met ? 'PASS' : 'MISS';
}

/** The table as Markdown (so it can go into the README as it is). */
export function renderTable(rows: readonly Row[]): string {
  const header = ['#', 'figure', 'measured', 'target', 'verdict'];
  const lines = rows.map((r) => [r.section, r.figure, r.measured, r.target === '' ? '—' : r.target, r.verdict]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const fmtLine = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  const out = [fmtLine(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmtLine)];
  const notes = rows.filter((r) => r.note !== undefined && r.note !== '');
  if (notes.length > 0) {
    out.push('', 'Notes:');
    for (const r of notes) out.push(`- ${r.section} ${r.figure}: ${r.note}`);
  }
  return out.join('\n');
}

function tryRun(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

/** The machine and software the figures were measured on. */
export function environment(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: os.loadavg().map((v) => Math.round(v * 100) / 100),
    rclone: tryRun('rclone', ['version'])?.split('\n')[0] ?? null,
    redis: tryRun('redis-server', ['--version']),
    gitCommit: tryRun('git', ['rev-parse', 'HEAD']),
    gitDirty: (tryRun('git', ['status', '--porcelain']) ?? '') !== '',
  };
}

/**
 * Writes the JSON report.
 * @param file e.g. bench-results/latest.json
 * @param report everything to keep
 */
export async function writeReport(file: string, report: Record<string, unknown>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(report, null, 2) + '\n');
}
