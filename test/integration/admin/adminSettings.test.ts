import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ALL_CHECK_IDS } from '../../../connector/src/checks/configuredChecks.js';
import type { CheckResult } from '../../../connector/src/checks/CheckResult.js';
import type { CheckRun } from '../../../connector/src/checks/runChecks.js';
import { SETTING_KEYS } from '../../../connector/src/config/settingsFile.js';
import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { ADMIN_PASSWORD, ALL_BODIES, AdminClient, expectNoSecrets, startAdminBridge, type AdminBridge } from './adminHarness.js';

const DS_SECRET = 'the-docs-server-secret-0123456789abcdef';
const NEW_SECRET = 'a-new-docs-secret-set-through-the-page-42';
const WRONG_SECRET = 'a-wrong-docs-secret-tried-without-saving-7';
const DRIVE_PASSWORD = 'drive-password-never-shown-9876';

interface Field {
  key: string;
  description: string;
  secret: boolean;
  value: string | null;
  set: boolean;
  source: 'env' | 'file' | 'default';
  locked: boolean;
}
interface ChecksAnswer {
  configProblems: string[];
  saved: boolean;
  restartRequired: boolean;
  ignored: string[];
  run: CheckRun | null;
}

describe('admin settings and check runs', () => {
  let ds: DocServiceDouble;
  let tb: AdminBridge;
  let dataDir: string;
  let settingsFile: string;
  let c: AdminClient;

  const fieldsOf = async (): Promise<{ fields: Field[]; restartRequired: boolean }> => {
    const res = await c.get('/admin/api/settings');
    expect(res.status).toBe(200);
    return res.json();
  };
  const field = (fields: Field[], key: string): Field => {
    const f = fields.find((x) => x.key === key);
    if (!f) throw new Error(`no field ${key}`);
    return f;
  };
  const result = (run: CheckRun | null, id: string): CheckResult => {
    const r = run?.results.find((x) => x.id === id);
    if (!r) throw new Error(`no result ${id}`);
    return r;
  };
  const fileState = async (): Promise<{ text: string; mtimeMs: number; mode: number }> => {
    const s = await stat(settingsFile);
    return { text: await readFile(settingsFile, 'utf8'), mtimeMs: s.mtimeMs, mode: s.mode & 0o777 };
  };

  beforeAll(async () => {
    ds = await startDocServiceDouble({ jwtSecret: DS_SECRET });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'wopi-admin-settings-'));
    settingsFile = path.join(dataDir, 'settings.json');
    await writeFile(settingsFile, JSON.stringify({ DOCS_JWT_SECRET: DS_SECRET, DOCS_TLS_VERIFY: 'true' }, null, 2) + '\n', { mode: 0o600 });
    // DOCS_URL, DOCS_JWT_HEADER and LOG_LEVEL come from the environment: locked.
    tb = await startAdminBridge({ DOCS_URL: ds.url, DOCS_JWT_HEADER: 'Authorization' }, {}, dataDir);
    c = new AdminClient(tb.url);
    expect((await c.login()).status).toBe(200);
  }, 30_000);
  afterAll(async () => {
    await tb?.stop();
    await ds?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('GET settings lists every setting with its source; env-set ones are locked; secrets only as set / not set', async () => {
    expect(tb.config.docs.jwtSecret).toBe(DS_SECRET); // the file's value is in force
    const { fields, restartRequired } = await fieldsOf();
    expect(restartRequired).toBe(false);
    expect(fields.map((f) => f.key)).toEqual(SETTING_KEYS.map((k) => k.key));
    for (const f of fields) {
      expect(Object.keys(f).sort()).toEqual(['description', 'key', 'locked', 'secret', 'set', 'source', 'value']);
      if (f.secret) expect(f.value).toBeNull();
    }
    expect(field(fields, 'DOCS_URL')).toMatchObject({ value: ds.url, set: true, source: 'env', locked: true, secret: false });
    expect(field(fields, 'DOCS_JWT_HEADER')).toMatchObject({ value: 'Authorization', source: 'env', locked: true });
    expect(field(fields, 'LOG_LEVEL')).toMatchObject({ value: 'debug', source: 'env', locked: true });
    expect(field(fields, 'DOCS_JWT_SECRET')).toMatchObject({ value: null, set: true, source: 'file', locked: false, secret: true });
    expect(field(fields, 'DOCS_TLS_VERIFY')).toMatchObject({ value: 'true', set: true, source: 'file', locked: false });
    expect(field(fields, 'DOCS_PUBLIC_URL')).toMatchObject({ value: null, set: false, source: 'default', locked: false });
    expect(field(fields, 'STORAGE_PASSWORD')).toMatchObject({ value: null, set: false, source: 'default', secret: true });
  });

  test('the checks run on the settings in force: every check, DS and the embedded drive ok', async () => {
    const res = await c.post('/admin/api/checks', {});
    expect(res.status).toBe(200);
    const a = res.json<ChecksAnswer>();
    expect(a.configProblems).toEqual([]);
    expect(a.saved).toBe(false);
    expect(a.restartRequired).toBe(false);
    expect(a.run?.results.map((r) => r.id)).toEqual([...ALL_CHECK_IDS]);
    for (const id of ['docs_reachable', 'docs_version', 'wopi_enabled', 'jwt_secret', 'drive_reachable', 'drive_credentials']) {
      expect([id, result(a.run, id).status]).toEqual([id, 'ok']);
    }
    expect(typeof a.run?.ms).toBe('number');
  });

  test('"check without saving" runs the candidate (a wrong secret fails) and leaves the settings file as it was', async () => {
    const before = await fileState();
    const res = await c.post('/admin/api/checks', { settings: { DOCS_JWT_SECRET: WRONG_SECRET }, only: ['jwt_secret'] });
    const a = res.json<ChecksAnswer>();
    expect(a.configProblems).toEqual([]);
    expect(a.saved).toBe(false);
    expect(a.run?.results.map((r) => r.id)).toEqual(['jwt_secret']);
    expect(result(a.run, 'jwt_secret').status).toBe('fail');
    expect(await fileState()).toEqual(before);
    // A secret sent as "" means "unchanged": the stored one is used and matches.
    const same = (await c.post('/admin/api/checks', { settings: { DOCS_JWT_SECRET: '' }, only: ['jwt_secret'] })).json<ChecksAnswer>();
    expect(result(same.run, 'jwt_secret').status).toBe('ok');
    expect(await fileState()).toEqual(before);
  });

  test('invalid settings → configProblems without values, no run, nothing saved', async () => {
    const before = await fileState();
    const res = await c.post('/admin/api/checks', {
      settings: { DOCS_PUBLIC_URL: 'not a url', STORAGE_FLAVOUR: 'banana', DOCS_JWT_SECRET: 'short', NO_SUCH_SETTING: 'x', STORAGE_USER: 42 },
      save: true,
    });
    expect(res.status).toBe(200);
    const a = res.json<ChecksAnswer>();
    expect(a.saved).toBe(false);
    expect(a.run).toBeNull();
    expect(a.configProblems.join('\n')).toMatch(/NO_SUCH_SETTING/);
    expect(a.configProblems.join('\n')).toMatch(/STORAGE_USER/);
    expect(await fileState()).toEqual(before);
    const typed = (await c.post('/admin/api/checks', { settings: { DOCS_PUBLIC_URL: 'not a url', STORAGE_FLAVOUR: 'banana' }, save: true })).json<ChecksAnswer>();
    expect(typed.configProblems).toHaveLength(2);
    expect(typed.configProblems.join('\n')).toMatch(/DOCS_PUBLIC_URL/);
    expect(typed.configProblems.join('\n')).toMatch(/STORAGE_FLAVOUR/);
    expect(typed.configProblems.join('\n')).not.toContain('banana');
    expect(typed.configProblems.join('\n')).not.toContain('not a url');
    expect(await fileState()).toEqual(before);
  });

  test('a changed STORAGE_URL is checked with its own URL and account', async () => {
    const res = await c.post('/admin/api/checks', {
      settings: { STORAGE_URL: 'http://127.0.0.1:9/remote.php/dav/files/alice', STORAGE_USER: 'alice', STORAGE_PASSWORD: DRIVE_PASSWORD },
      only: ['drive_reachable'],
    });
    const a = res.json<ChecksAnswer>();
    expect(a.configProblems).toEqual([]);
    const r = result(a.run, 'drive_reachable');
    expect(r.status).toBe('fail');
    expect(JSON.stringify(r)).toContain('127.0.0.1:9');
  });

  test('save: written atomically with mode 0600; env-locked keys are ignored (not written, reported); restart required', async () => {
    const res = await c.post('/admin/api/checks', {
      settings: {
        DOCS_JWT_SECRET: NEW_SECRET,
        DOCS_PUBLIC_URL: 'http://office.example.test',
        docs_node_urls: `${ds.url}`,
        DOCS_URL: 'http://elsewhere.example.test',
        LOG_LEVEL: 'trace',
      },
      save: true,
      only: ['jwt_secret'],
    });
    const a = res.json<ChecksAnswer>();
    expect(a.configProblems).toEqual([]);
    expect(a.saved).toBe(true);
    expect(a.restartRequired).toBe(true);
    expect(a.ignored.sort()).toEqual(['DOCS_URL', 'LOG_LEVEL']);
    // The new secret is not DS's: the check of the saved candidate says so.
    expect(result(a.run, 'jwt_secret').status).toBe('fail');
    const after = await fileState();
    expect(after.mode).toBe(0o600);
    expect(JSON.parse(after.text)).toEqual({
      DOCS_JWT_SECRET: NEW_SECRET,
      DOCS_TLS_VERIFY: 'true',
      DOCS_PUBLIC_URL: 'http://office.example.test',
      DOCS_NODE_URLS: ds.url,
    });
    const { fields, restartRequired } = await fieldsOf();
    expect(restartRequired).toBe(true);
    expect(field(fields, 'DOCS_URL')).toMatchObject({ value: ds.url, source: 'env', locked: true });
    expect(field(fields, 'LOG_LEVEL')).toMatchObject({ value: 'debug', source: 'env', locked: true });
    expect(field(fields, 'DOCS_JWT_SECRET')).toMatchObject({ value: null, set: true, source: 'file' });
    expect(field(fields, 'DOCS_PUBLIC_URL')).toMatchObject({ value: 'http://office.example.test', source: 'file' });
    // Config is never reloaded while running.
    expect(tb.config.docs.jwtSecret).toBe(DS_SECRET);
  });

  test('the page may load api.js from the saved DS public URL (CSP), besides the one in force', async () => {
    const res = await fetch(`${tb.url}/admin/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain('http://office.example.test');
    expect(csp).toContain(ds.url);
  });

  test('save: "" keeps a stored secret, null removes a key; back to the values in force → no restart required', async () => {
    let a = (await c.post('/admin/api/checks', { settings: { DOCS_JWT_SECRET: '', DOCS_PUBLIC_URL: null, DOCS_NODE_URLS: '' }, save: true, only: ['mixed_content'] })).json<ChecksAnswer>();
    expect(a.saved).toBe(true);
    expect(JSON.parse((await fileState()).text)).toEqual({ DOCS_JWT_SECRET: NEW_SECRET, DOCS_TLS_VERIFY: 'true' });
    expect(a.restartRequired).toBe(true);
    a = (await c.post('/admin/api/checks', { settings: { DOCS_JWT_SECRET: DS_SECRET }, save: true, only: ['jwt_secret'] })).json<ChecksAnswer>();
    expect(a.restartRequired).toBe(false);
    expect(result(a.run, 'jwt_secret').status).toBe('ok');
    expect((await fieldsOf()).restartRequired).toBe(false);
    expect((await fileState()).mode).toBe(0o600);
  });

  test('Accept: application/x-ndjson streams one line per started and finished check, then done', async () => {
    const res = await fetch(`${tb.url}/admin/api/checks`, {
      method: 'POST',
      headers: {
        Accept: 'application/x-ndjson',
        'Content-Type': 'application/json',
        Cookie: `wb_admin=${c.cookie}`,
        'X-CSRF-Token': c.csrfToken as string,
        Origin: tb.url,
      },
      body: JSON.stringify({ settings: { DOCS_JWT_SECRET: WRONG_SECRET } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    ALL_BODIES.push(text);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const n = ALL_CHECK_IDS.length;
    expect(lines).toHaveLength(2 * n + 1);
    const started = lines.filter((l) => l.kind === 'started');
    const finished = lines.filter((l) => l.kind === 'finished');
    expect(started.map((l) => l.id).sort()).toEqual([...ALL_CHECK_IDS].sort());
    expect(finished.map((l) => l.id).sort()).toEqual([...ALL_CHECK_IDS].sort());
    for (const id of ALL_CHECK_IDS) {
      expect(lines.findIndex((l) => l.kind === 'started' && l.id === id)).toBeLessThan(lines.findIndex((l) => l.kind === 'finished' && l.id === id));
    }
    expect(finished.map((l) => l.done)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    for (const l of [...started, ...finished]) expect(l.total).toBe(n);
    for (const l of finished) expect((l.result as CheckResult).id).toBe(l.id);
    const done = lines[lines.length - 1] as { kind: string; saved: boolean; restartRequired: boolean; run: CheckRun };
    expect(done.kind).toBe('done');
    expect(done.saved).toBe(false);
    expect(done.restartRequired).toBe(false);
    expect(done.run.results.map((r) => r.id)).toEqual([...ALL_CHECK_IDS]);
    expect(result(done.run, 'jwt_secret').status).toBe('fail');
  });

  test('NDJSON with invalid settings: a single done line with the problems', async () => {
    const res = await c.post('/admin/api/checks', { settings: { STORAGE_FLAVOUR: 'banana' } }, { headers: { Accept: 'application/x-ndjson' } });
    const lines = res.text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ kind: 'done', saved: false, run: null });
    expect((lines[0]?.configProblems as string[]).length).toBe(1);
  });

  test('no secret appears in any response body or log line', () => {
    const secrets = [DS_SECRET, NEW_SECRET, WRONG_SECRET, DRIVE_PASSWORD, ADMIN_PASSWORD, tb.config.tokens.secret, tb.config.embedded.password];
    expect(ALL_BODIES.length).toBeGreaterThan(10);
    expectNoSecrets([...ALL_BODIES, ...tb.logs.lines], secrets);
  });
});
