import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { startTestBridge, type TestBridge } from '../../helpers/testBridge.js';
import { ALL_CHECK_IDS, configuredChecks, configuredSecrets } from '../../../connector/src/checks/configuredChecks.js';
import { runChecks } from '../../../connector/src/checks/runChecks.js';

// The checks as the page, the API and the CLI run them: bound to the bridge's own configuration.
describe('configured checks', () => {
  let ds: DocServiceDouble;
  beforeAll(async () => {
    ds = await startDocServiceDouble({ jwtSecret: 'a-docs-secret-that-is-long-enough-32b' });
  });
  afterAll(async () => {
    await ds.close();
  });

  test('a healthy setup: every check runs once, DS and drive ok, nothing secret in the results', async () => {
    const tb: TestBridge = await startTestBridge({ DOCS_URL: ds.url, DOCS_JWT_SECRET: 'a-docs-secret-that-is-long-enough-32b' });
    try {
      const { config } = tb;
      const drive = tb.bridge.runtime.driveAccess;
      const run = await runChecks(configuredChecks(config, drive), { secrets: configuredSecrets(config, drive) });
      expect(run.results.map((r) => r.id)).toEqual([...ALL_CHECK_IDS]);
      const byId = Object.fromEntries(run.results.map((r) => [r.id, r]));
      for (const id of ['docs_reachable', 'docs_version', 'wopi_enabled', 'jwt_secret', 'proof_keys', 'drive_reachable', 'drive_credentials', 'drive_root']) {
        expect([id, byId[id]?.status]).toEqual([id, 'ok']);
      }
      const text = JSON.stringify(run);
      for (const s of configuredSecrets(config, drive)) expect(text).not.toContain(s);
    } finally {
      await tb.stop();
    }
  });

  test('a broken setup: a wrong DS secret and no DS address are failures with fixes', async () => {
    const wrong = await startTestBridge({ DOCS_URL: ds.url, DOCS_JWT_SECRET: 'not-the-secret-of-this-docs-server-x' });
    const none = await startTestBridge();
    try {
      const jwt = (await runChecks(configuredChecks(wrong.config, wrong.bridge.runtime.driveAccess, { only: ['jwt_secret'] }))).results[0];
      expect(jwt?.status).toBe('fail');
      expect(jwt?.fix).toBeTruthy();
      const reach = (await runChecks(configuredChecks(none.config, none.bridge.runtime.driveAccess, { only: ['docs_reachable'] }))).results[0];
      expect(reach?.status).toBe('fail');
      expect(reach?.fix).toMatch(/DOCS_URL/);
    } finally {
      await wrong.stop();
      await none.stop();
    }
  });
});
