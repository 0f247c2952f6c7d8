import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ipfilterFix, jwtEnableFix, wopiEnableFix } from '../../../connector/src/checks/localJsonSnippets.js';
import { SETTING_KEYS } from '../../../connector/src/config/settingsFile.js';
import { ROOT, startCommand } from '../../helpers/processes.js';

const GUIDE = path.join(ROOT, 'docs/deployment.md');
const UNIT = path.join(ROOT, 'docs/deploy/wopi-bridge.service');

/** The fenced code blocks of a Markdown text, each with the HTML comment just above it (if any). */
function codeBlocks(md: string): Array<{ lang: string; body: string; marker: string | null }> {
  const out: Array<{ lang: string; body: string; marker: string | null }> = [];
  const re = /(?:<!-- ([^>]+?) -->\n)?```([a-z]*)\n([\s\S]*?)```/g;
  for (const m of md.matchAll(re)) out.push({ marker: m[1] ?? null, lang: m[2] ?? '', body: m[3] as string });
  return out;
}

/** The JSON object a local.json fix prints (between its first line and its closing brace). */
function jsonOf(fix: string): string {
  const start = fix.indexOf('\n{\n') + 1;
  const end = fix.lastIndexOf('\n}') + 2;
  return fix.slice(start, end);
}

/** Every variable loadConfig reads: str/int/url/origin/secret('NAME'), NAME_FILE for secrets, and env.NAME. */
async function variablesLoadConfigReads(): Promise<string[]> {
  const src = await readFile(path.join(ROOT, 'connector/src/config/loadConfig.ts'), 'utf8');
  const names = new Set<string>();
  for (const m of src.matchAll(/\b(str|int|url|origin|secret)\('([A-Z][A-Z0-9_]*)'/g)) {
    names.add(m[2] as string);
    if (m[1] === 'secret') names.add(`${m[2]}_FILE`);
  }
  for (const m of src.matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g)) names.add(m[1] as string);
  return [...names].sort();
}

/** Key=value lines of a systemd unit's [Service] section (repeated keys kept). */
function serviceEntries(unit: string): Array<[string, string]> {
  const section = /^\[Service\]\n([\s\S]*?)(?=^\[|$(?![\s\S]))/m.exec(unit)?.[1] ?? '';
  return section
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]);
}

// The deployment guide shows only configuration that a test uses: its files are docs/deploy/* (the nginx one runs in
// test/integration/cluster/), its local.json snippets are what the checks print, and its variable table covers
// everything loadConfig reads.
describe('docs/deployment.md', () => {
  let guide: string;
  beforeAll(async () => {
    guide = await readFile(GUIDE, 'utf8');
  });

  test('every configuration block is marked and equals its source: a file in the repo, or a local.json fix', async () => {
    const fixes: Record<string, string> = {
      wopiEnableFix: jsonOf(wopiEnableFix()),
      jwtEnableFix: jsonOf(jwtEnableFix()),
      ipfilterFix: jsonOf(ipfilterFix(undefined)),
    };
    const seen: string[] = [];
    for (const block of codeBlocks(guide)) {
      // Shell commands and the diagram are not configuration; every other block must say where it comes from.
      if (block.lang === 'sh' || block.lang === '') continue;
      expect([block.lang, block.marker]).toEqual([block.lang, expect.stringMatching(/^(file|local\.json): /)]);
      const [kind, name] = (block.marker as string).split(': ') as [string, string];
      seen.push(name);
      if (kind === 'file') expect([name, block.body]).toEqual([name, await readFile(path.join(ROOT, name), 'utf8')]);
      else expect([name, block.body]).toEqual([name, `${fixes[name]}\n`]);
    }
    expect(seen.sort()).toEqual(['docs/deploy/nginx-wopi-bridge.conf', 'docs/deploy/wopi-bridge.service', 'ipfilterFix', 'jwtEnableFix', 'wopiEnableFix']);
    // The snippets are JSON DS can read.
    for (const f of Object.values(fixes)) expect(() => JSON.parse(f)).not.toThrow();
  });

  test('every variable loadConfig reads is in the table, with a default column and a meaning', async () => {
    const table = guide.slice(guide.indexOf('## 7. Every environment variable'), guide.indexOf('## 8.'));
    const rows = table.split('\n').filter((l) => l.startsWith('| `'));
    const documented = new Map<string, string>();
    for (const row of rows) {
      // | variable | default | meaning |
      const cells = row.split('|').map((c) => c.trim());
      const meaning = cells[3] ?? '';
      for (const m of (cells[1] as string).matchAll(/`([A-Z][A-Z0-9_]*)`/g)) documented.set(m[1] as string, meaning);
    }
    const read = await variablesLoadConfigReads();
    expect(read.length).toBeGreaterThan(40);
    expect(read.filter((n) => !documented.has(n))).toEqual([]);
    expect(read.filter((n) => (documented.get(n) ?? '').length < 10)).toEqual([]);
    // And nothing documented that the bridge does not read.
    expect([...documented.keys()].filter((n) => !read.includes(n))).toEqual([]);
  });

  test('README.md links to the guide', async () => {
    expect(await readFile(path.join(ROOT, 'README.md'), 'utf8')).toContain('(docs/deployment.md)');
  });
});

describe('docs/deploy/wopi-bridge.service', () => {
  let unit: string;
  beforeAll(async () => {
    unit = await readFile(UNIT, 'utf8');
  });

  test('ExecStart runs the built server as `npm start` does: same entry, same node flags, same variables', () => {
    const exec = serviceEntries(unit).filter(([k]) => k === 'ExecStart');
    expect(exec).toHaveLength(1);
    const [node, ...args] = (exec[0] as [string, string])[1].split(' ');
    const entry = args.pop();
    expect(node).toMatch(/\/node$/);
    const start = startCommand();
    expect(args).toEqual(start.nodeArgs);
    expect(path.relative('/opt/wopi-bridge', entry as string)).toBe(start.entry);
    const environment = new Map(serviceEntries(unit).filter(([k]) => k === 'Environment').map(([, v]) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)]));
    for (const [name, value] of Object.entries(start.env)) expect([name, environment.get(name)]).toEqual([name, value]);
    expect(entry?.startsWith(serviceEntries(unit).find(([k]) => k === 'WorkingDirectory')?.[1] ?? '?')).toBe(true);
    expect(existsSync(path.join(ROOT, 'connector/src', path.basename(entry as string).replace(/\.js$/, '.ts')))).toBe(true);
  });

  test('every Environment= name but npm start\'s own is a setting: one loadConfig reads, and a settings-file key or a *_FILE secret or a listener/data setting', async () => {
    const read = await variablesLoadConfigReads();
    const keys = new Set(SETTING_KEYS.map((k) => k.key));
    // The variables `npm start` sets too are the C library's (compared in the ExecStart test), not settings.
    const runtime = Object.keys(startCommand().env);
    const names = serviceEntries(unit)
      .filter(([k]) => k === 'Environment')
      .map(([, v]) => v.slice(0, v.indexOf('=')))
      .filter((n) => !runtime.includes(n));
    expect(names.length).toBeGreaterThan(5);
    expect(names.filter((n) => !read.includes(n))).toEqual([]);
    for (const n of names) expect([n, keys.has(n) || keys.has(n.replace(/_FILE$/, '')) || read.includes(n)]).toEqual([n, true]);
    // Secrets are never values in the unit: only *_FILE paths into the credentials folder.
    for (const k of SETTING_KEYS.filter((s) => s.secret && s.key !== 'REDIS_URL')) expect(names).not.toContain(k.key);
    const secretFiles = serviceEntries(unit)
      .filter(([k, v]) => k === 'Environment' && /_FILE=/.test(v))
      .map(([, v]) => v);
    for (const v of secretFiles) expect(v).toMatch(/=%d\/[a-z-]+$/);
    // Each credential the unit points at is loaded.
    const creds = serviceEntries(unit).filter(([k]) => k === 'LoadCredential').map(([, v]) => v.split(':')[0]);
    for (const v of secretFiles) expect(creds).toContain(v.split('%d/')[1]);
  });

  test('`systemd-analyze verify` accepts it without a warning (when systemd is installed)', async () => {
    const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
    if (analyze === undefined) return; // parsed and checked above; nothing more to run here
    const { stdout, stderr } = await promisify(execFile)(analyze, ['verify', UNIT]).catch((e: { stdout: string; stderr: string; code: number }) => {
      throw new Error(`systemd-analyze verify failed (${e.code}):\n${e.stderr}${e.stdout}`);
    });
    expect(`${stdout}${stderr}`.trim()).toBe('');
  });
});
