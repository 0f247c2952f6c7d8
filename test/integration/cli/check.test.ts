import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { startNextcloudOcsDouble, type NextcloudOcsDouble } from '../../helpers/nextcloudOcsDouble.js';
import { EXIT, STACK_LINE, wb } from './cliHarness.js';

const DOCS_SECRET = 'the-docs-server-secret-0123456789abcdef';

// `wopi-bridge check` and `wopi-bridge encryption`: the page's diagnostics, spawned like a monitoring system would.
describe('wopi-bridge check', () => {
  let ds: DocServiceDouble;
  beforeAll(async () => {
    ds = await startDocServiceDouble({ jwtSecret: DOCS_SECRET });
  });
  afterAll(async () => {
    await ds.close();
  });

  test('a healthy setup: every check in --json, DS checks ok, exit 0 or 1 (never critical), no secret printed', async () => {
    const run = await wb(['check', '--json'], { DOCS_URL: ds.url, DOCS_JWT_SECRET: DOCS_SECRET });
    expect([EXIT.OK, EXIT.WARNING]).toContain(run.code);
    const doc = JSON.parse(run.stdout) as { status: string; results: Array<{ id: string; status: string }> };
    const byId = Object.fromEntries(doc.results.map((r) => [r.id, r.status]));
    for (const id of ['docs_reachable', 'wopi_enabled', 'jwt_secret', 'proof_keys', 'drive_reachable', 'drive_credentials']) expect([id, byId[id]]).toEqual([id, 'ok']);
    expect(run.stdout + run.stderr).not.toContain(DOCS_SECRET);
  }, 60_000);

  test('a wrong DS secret: exit 2, a table with FAIL jwt_secret and its fix', async () => {
    const run = await wb(['check', '--only', 'jwt_secret,docs_reachable'], { DOCS_URL: ds.url, DOCS_JWT_SECRET: 'wrong-secret-wrong-secret-wrong-secret' });
    expect(run.code).toBe(EXIT.CRITICAL);
    expect(run.stdout).toMatch(/FAIL\s+jwt_secret/);
    expect(run.stdout).toMatch(/Fix:/);
    expect(run.stdout).toMatch(/OK\s+docs_reachable/);
    expect(run.stdout + run.stderr).not.toContain('wrong-secret-wrong-secret');
  }, 60_000);

  test('DS unreachable finishes within the timeout and is critical', async () => {
    const run = await wb(['check', '--only', 'docs_reachable', '--timeout', '5'], { DOCS_URL: 'http://127.0.0.1:9', DOCS_TIMEOUT_MS: '1000' });
    expect(run.code).toBe(EXIT.CRITICAL);
    expect(run.ms).toBeLessThan(10_000);
    expect(run.stdout).toMatch(/refused/i);
  }, 60_000);

  test('usage errors: unknown check id, bad timeout → exit 3, one line, no stack trace', async () => {
    for (const args of [['check', '--only', 'nope'], ['check', '--timeout', 'x'], ['check', 'extra']]) {
      const run = await wb(args);
      expect(run.code).toBe(EXIT.UNKNOWN);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).not.toMatch(STACK_LINE);
    }
  });
});

describe('wopi-bridge encryption', () => {
  let nc: NextcloudOcsDouble;
  beforeAll(async () => {
    nc = await startNextcloudOcsDouble({ state: 'a' });
    nc.putFile('alice', '/probe.docx', Buffer.from('probe'));
  });
  afterAll(async () => {
    await nc.close();
  });
  const env = (): Record<string, string> => ({
    STORAGE_URL: nc.davUrl('alice'),
    STORAGE_USER: 'alice',
    STORAGE_PASSWORD: 'alice-pass-123',
    STORAGE_ADMIN_USER: 'admin',
    STORAGE_ADMIN_PASSWORD: 'admin-pass-123',
  });

  test('encryption off: exit 0', async () => {
    nc.setState('a');
    const run = await wb(['encryption', '--json'], env());
    expect(run.code).toBe(EXIT.OK);
    const doc = JSON.parse(run.stdout) as { results: Array<{ id: string; status: string }> };
    expect(doc.results.map((r) => r.id)).toEqual(['drive_encryption', 'drive_encryption_probe']);
  }, 60_000);

  test('encryption on but the module missing: exit 2 with the fix to enable the app; passwords never printed', async () => {
    nc.putFile('alice', '/secret.docx', Buffer.from('encrypted'), { encrypted: true });
    nc.setState('d');
    const run = await wb(['encryption'], env());
    expect(run.code).toBe(EXIT.CRITICAL);
    expect(run.stdout).toMatch(/app:enable encryption/);
    expect(run.stdout + run.stderr).not.toMatch(/alice-pass-123|admin-pass-123/);
  }, 60_000);
});
