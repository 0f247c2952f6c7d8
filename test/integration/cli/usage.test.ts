import { cleanupProcesses, makeTempDir } from '../../helpers/processes.js';
import { EXIT, HAVE_SCRIPT, STACK_LINE, wb } from './cliHarness.js';

const COMMANDS = ['token', 'config', 'smoke', 'jwt', 'discovery', 'locks'];
// eslint-disable-next-line no-control-regex
const ESC = /\u001b\[/;

afterAll(cleanupProcesses);

describe('wopi-bridge --help', () => {
  test('the overview lists every command, the exit codes and examples', async () => {
    const r = await wb(['--help']);
    expect(r.code).toBe(EXIT.OK);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage: wopi-bridge <command> \[options\]$/m);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^ {2}${c} `, 'm'));
    expect(r.stdout).toContain('0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN');
    expect(r.stdout).toContain('--no-color');
    expect(r.stdout).toMatch(/^Examples:$/m);
  }, 30_000);

  test.each(COMMANDS)('%s --help (and help %s): its synopsis, options, exit codes and examples; exit 0', async (c) => {
    for (const args of [[c, '--help'], [c, '-h'], ['help', c]]) {
      const r = await wb(args);
      expect(r.code).toBe(EXIT.OK);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('Usage: wopi-bridge <command> [options]');
      expect(r.stdout).toMatch(new RegExp(`^ {2}${c}\\b`, 'm'));
      expect(r.stdout).toMatch(/^Exit codes: /m);
      expect(r.stdout).toMatch(/^Examples:$/m);
      expect(r.stdout).toMatch(new RegExp(`^ {2}(.*\\| )?wopi-bridge ${c}\\b`, 'm'));
      // Only this command's page.
      for (const other of COMMANDS.filter((o) => o !== c)) expect(r.stdout).not.toMatch(new RegExp(`^ {2}${other} `, 'm'));
    }
  }, 30_000);

  test('--help after a sub-command shows the command\'s page, without running anything', async () => {
    const dir = await makeTempDir('wopi-cli-usage-');
    const r = await wb(['config', 'set', 'DOCS_URL', 'http://x', '--help'], { DATA_DIR: dir });
    expect(r.code).toBe(EXIT.OK);
    expect(r.stdout).toContain('config set KEY [VALUE]');
    const check = await wb(['config', 'get', '--json'], { DATA_DIR: dir });
    expect((JSON.parse(check.stdout) as { settings: Array<{ key: string; source: string }> }).settings.find((s) => s.key === 'DOCS_URL')?.source).toBe('default');
  }, 30_000);
});

describe('wopi-bridge errors', () => {
  test.each([
    ['an unknown command', ['frobnicate'], 'unknown command "frobnicate"; see wopi-bridge --help'],
    ['an unknown flag', ['locks', 'list', '--frobnicate'], "Unknown option '--frobnicate'"],
    ['a flag without its value', ['discovery', '--url'], "Option '--url <value>' argument missing"],
  ])('%s: exit 3, one line on stderr, nothing on stdout', async (_what, args, message) => {
    const r = await wb(args);
    expect(r.code).toBe(EXIT.UNKNOWN);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining(message)]);
    expect(r.stderr).toMatch(/^wopi-bridge: /);
    expect(r.stderr).not.toMatch(STACK_LINE);
  }, 30_000);

  test('a configuration error in any command: one line, exit 3, no stack trace', async () => {
    const env = { WOPI_TOKEN_SECRET: 'short', LOG_LEVEL: 'loud' };
    for (const args of [['token', '/Welcome.docx'], ['smoke', '/Welcome.docx'], ['locks', 'list'], ['jwt', 'sign', '--kind', 'wopi'], ['discovery']]) {
      const r = await wb(args, env);
      expect(r.code).toBe(EXIT.UNKNOWN);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^wopi-bridge: invalid configuration: WOPI_TOKEN_SECRET must be at least 32 bytes; .*; LOG_LEVEL must be one of/)]);
    }
  }, 60_000);
});

describe('colours', () => {
  test('never on a pipe', async () => {
    const r = await wb(['config', 'check']);
    expect(r.stdout).not.toMatch(ESC);
  }, 30_000);

  (HAVE_SCRIPT ? test : test.skip)('on a terminal; not with --no-color (anywhere) nor NO_COLOR', async () => {
    const dir = await makeTempDir('wopi-cli-colour-');
    const tty = await wb(['config', 'check'], { DATA_DIR: dir }, { tty: true });
    expect(tty.code).toBe(EXIT.OK);
    expect(tty.stdout).toContain('\u001b[32mOK\u001b[39m');
    for (const [args, env] of [
      [['config', 'check', '--no-color'], {}],
      [['--no-color', 'config', 'check'], {}],
      [['config', 'check'], { NO_COLOR: '1' }],
      [['config', 'check'], { TERM: 'dumb' }],
    ] as Array<[string[], Record<string, string>]>) {
      const r = await wb(args, { DATA_DIR: dir, ...env }, { tty: true });
      expect(r.code).toBe(EXIT.OK);
      expect(r.stdout).toContain('Configuration: OK');
      expect(r.stdout).not.toMatch(ESC);
    }
  }, 30_000);
});
