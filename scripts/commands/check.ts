/**
 * `wopi-bridge check` and `wopi-bridge encryption`: the admin page's diagnostics on the command line — the same
 * check functions (connector/src/checks), a progress display on a terminal, a table with fixes, or --json;
 * monitoring-plugin exit codes.
 */
import type { Command } from '../cli/command.js';
import type { Cli } from '../cli/context.js';
import { parse, seconds } from '../cli/args.js';
import { EXIT, UsageError, type ExitCode } from '../cli/exitCodes.js';
import { jsonText, renderTable } from '../cli/output.js';
import { existsSync } from 'node:fs';
import { loadCliConfig, openStateStore, sqlitePath } from '../cli/runtime.js';
import type { StateStore } from '../../connector/src/state/StateStore.js';
import { DOCS_REACHES_BRIDGE_ID } from '../../connector/src/checks/checkDocsReachesBridge.js';
import type { Config } from '../../connector/src/config/config.js';
import type { CheckStatus } from '../../connector/src/checks/CheckResult.js';
import { ALL_CHECK_IDS, configuredChecks, configuredSecrets, type DriveAccess } from '../../connector/src/checks/configuredChecks.js';
import { ENCRYPTION_CHECK_IDS } from '../../connector/src/checks/checkStorageEncryption.js';
import { runChecks, type CheckRun } from '../../connector/src/checks/runChecks.js';

/** The drive as the server reaches it; for the embedded default its in-process server is started for the run. */
async function openDrive(config: Config): Promise<{ drive: DriveAccess; close: () => Promise<void> }> {
  if (config.storage.url !== null) {
    return { drive: { davUrl: config.storage.url, username: config.storage.username, password: config.storage.password }, close: async () => undefined };
  }
  const { startEmbeddedWebdav } = await import('../../connector/src/storage/embedded/startEmbeddedWebdav.js');
  const embedded = await startEmbeddedWebdav(config.embedded.filesDir, config.embedded.password);
  return { drive: { davUrl: embedded.url, username: embedded.username, password: embedded.password }, close: () => embedded.stop() };
}

function exitFor(status: CheckStatus): ExitCode {
  return status === 'fail' ? EXIT.CRITICAL : status === 'warn' ? EXIT.WARNING : EXIT.OK;
}

function label(status: CheckStatus, cli: Cli): string {
  const s = cli.style;
  return status === 'ok' ? s.green('OK') : status === 'warn' ? s.yellow('WARN') : status === 'fail' ? s.red('FAIL') : s.dim('SKIP');
}

/** The run as a table, then each problem's detail and fix. */
function render(run: CheckRun, cli: Cli): string {
  const rows = run.results.map((r) => [label(r.status, cli), r.id, r.summary]);
  let out = renderTable(['STATUS', 'CHECK', 'SUMMARY'], rows, cli.style);
  const problems = run.results.filter((r) => r.status === 'fail' || r.status === 'warn');
  for (const r of problems) {
    out += `\n${label(r.status, cli)} ${cli.style.bold(r.id)}: ${r.summary}\n`;
    if (r.detail) out += `  ${r.detail.replace(/\n/g, '\n  ')}\n`;
    if (r.fix) out += `  ${cli.style.bold('Fix:')} ${r.fix.replace(/\n/g, '\n  ')}\n`;
  }
  out += `\n${label(run.status, cli)} ${run.results.length} checks in ${Math.round(run.ms)} ms\n`;
  return out;
}

/**
 * The server's state store, for the DS → bridge probe: the running bridge's probe endpoint records there what DS
 * sends. Null (the check is skipped) when the bridge has never run here (no SQLite file) or the store cannot be opened.
 */
async function openProbeState(config: Config, ids: readonly string[] | undefined): Promise<StateStore | null> {
  if (config.docs.internalUrl === null || (ids !== undefined && !ids.includes(DOCS_REACHES_BRIDGE_ID))) return null;
  if (config.redisUrl === null && !existsSync(sqlitePath(config))) return null;
  try {
    return await openStateStore(config);
  } catch {
    return null;
  }
}

async function runAndReport(cli: Cli, ids: readonly string[] | undefined, json: boolean, totalTimeoutMs: number): Promise<ExitCode> {
  const { config } = await loadCliConfig(cli);
  const { drive, close } = await openDrive(config);
  const state = await openProbeState(config, ids);
  try {
    const defs = configuredChecks(config, drive, { state, ...(ids ? { only: ids } : {}) });
    const progress = !json && process.stderr.isTTY === true;
    const run = await runChecks(defs, {
      totalTimeoutMs,
      secrets: configuredSecrets(config, drive),
      ...(progress
        ? {
            onProgress: (e) => {
              if (e.kind === 'finished') cli.errRaw(`\r[${e.done}/${e.total}] ${e.id.padEnd(24)} ${e.result.status.padEnd(7)}${e.done === e.total ? '\n' : ''}`);
            },
          }
        : {}),
    });
    cli.out(json ? jsonText({ status: run.status, ms: Math.round(run.ms), results: run.results }) : render(run, cli));
    return exitFor(run.status);
  } finally {
    await state?.close();
    await close();
  }
}

function onlyIds(raw: string[] | undefined): string[] | undefined {
  if (raw === undefined || raw.length === 0) return undefined;
  const ids = raw.flatMap((r) => r.split(',')).map((s) => s.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !ALL_CHECK_IDS.includes(id));
  if (unknown.length > 0) throw new UsageError(`unknown check ${unknown.join(', ')}; known: ${ALL_CHECK_IDS.join(', ')}`);
  return ids;
}

export const checkCommand: Command = {
  name: 'check',
  synopsis: ['check [--only ID…] [--json] [--timeout S]'],
  summary: 'Run the diagnostics of the settings page: DocumentServer, JWT, WOPI, proof keys, drive and encryption.',
  help: `Runs every check (or those named with --only, repeatable or comma-separated) in parallel, with the
configuration the server uses. On a terminal a progress line shows each check as it finishes; then a table of
results and, for each warning or failure, its detail and the exact fix.

Options:
  --only ID      run only this check (ids: ${ALL_CHECK_IDS.join(', ')})
  --json         one JSON document {status, ms, results} on stdout
  --timeout S    longest the whole run may take (default 60)

Exit codes (Nagios/Icinga/Zabbix): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (usage or configuration error).

Examples:
  wopi-bridge check
  wopi-bridge check --only jwt_secret --only wopi_enabled
  wopi-bridge check --json | jq '.results[] | select(.status != "ok")'
`,
  async run(args, cli) {
    const { values } = parse(
      args,
      { only: { type: 'string', multiple: true }, json: { type: 'boolean' }, timeout: { type: 'string' } },
      { min: 0, max: 0, usage: 'usage: wopi-bridge check [--only ID…] [--json] [--timeout S]' },
    );
    const timeout = values.timeout === undefined ? 60 : seconds(values.timeout, '--timeout', 1, 3600);
    return runAndReport(cli, onlyIds(values.only), values.json === true, timeout * 1000);
  },
};

export const encryptionCommand: Command = {
  name: 'encryption',
  synopsis: ['encryption [--json]'],
  summary: "Tell the drive's server-side encryption state (off / master key / per-user keys / module missing) and its fix.",
  help: `Reads Nextcloud's or ownCloud's encryption settings with the drive admin account (STORAGE_ADMIN_USER /
STORAGE_ADMIN_PASSWORD; without it that part is skipped) and downloads one file as a probe, which catches an
encryption module that is missing while PROPFIND and status.php still look healthy.

Options:
  --json   one JSON document on stdout

Exit codes: 0 OK, 1 WARNING (e.g. per-user keys), 2 CRITICAL (module missing, probe fails), 3 UNKNOWN.

Examples:
  wopi-bridge encryption
  STORAGE_ADMIN_USER=admin STORAGE_ADMIN_PASSWORD_FILE=/run/secrets/nc-admin wopi-bridge encryption --json
`,
  async run(args, cli) {
    const { values } = parse(args, { json: { type: 'boolean' } }, { min: 0, max: 0, usage: 'usage: wopi-bridge encryption [--json]' });
    return runAndReport(cli, [ENCRYPTION_CHECK_IDS.settings, ENCRYPTION_CHECK_IDS.probe], values.json === true, 60_000);
  },
};


