#!/usr/bin/env node
/**
 * `wopi-bridge <command>`: the sysadmin's command line, with the same configuration as the server. This file only
 * dispatches: it finds the command, answers `--help`, honours `--no-color` / NO_COLOR, and turns usage and
 * configuration errors into one line on stderr and exit 3 (no stack trace). Each command lives in
 * `scripts/commands/`, shared output helpers in `scripts/cli/`.
 *
 * Exit codes follow the monitoring-plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (usage/config).
 */
import { ConfigError } from '../connector/src/config/loadConfig.js';
import { StorageError } from '../connector/src/storage/StorageAdapter.js';
import { isWopiError } from '../connector/src/errors/errors.js';
import type { Command } from './cli/command.js';
import { processCli, type Cli } from './cli/context.js';
import { CommandFailure, EXIT, UsageError, type ExitCode } from './cli/exitCodes.js';
import { tokenCommand } from './commands/token.js';
import { configCommand } from './commands/config.js';
import { smokeCommand } from './commands/smoke.js';
import { jwtCommand } from './commands/jwt.js';
import { discoveryCommand } from './commands/discovery.js';
import { checkCommand, encryptionCommand } from './commands/check.js';
import { locksCommand } from './commands/locks.js';

/**
 * Every command, in the order the overview lists them. `check` and `encryption` (built on `connector/src/checks/`)
 * join here as two more modules under `scripts/commands/` implementing `Command`.
 */
const COMMANDS: readonly Command[] = [tokenCommand, configCommand, checkCommand, encryptionCommand, smokeCommand, jwtCommand, discoveryCommand, locksCommand];

const GLOBAL_OPTIONS = `Global options:
  -h, --help     help; \`wopi-bridge <command> --help\` shows one command with examples
  --no-color     no colours (NO_COLOR=1 too); colours are only used on a terminal anyway
`;

const FOOTER = `Configuration comes from the same environment as \`npm start\` (DATA_DIR, STORAGE_URL, …; see README), over
the settings file DATA_DIR/settings.json that \`wopi-bridge config set\` writes. Results go to stdout, diagnostics
to stderr.

Exit codes (monitoring-plugin convention): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (usage or configuration error).
`;

function overview(): string {
  const lines = ['Usage: wopi-bridge <command> [options]', '', 'Commands:'];
  for (const c of COMMANDS) {
    for (const s of c.synopsis) lines.push(`  ${s}`);
    lines.push(`      ${c.summary}`);
  }
  lines.push('', GLOBAL_OPTIONS, FOOTER, 'Examples:');
  lines.push(
    '  wopi-bridge token /Welcome.docx',
    '  wopi-bridge token "/Team/Q3 report.xlsx" --user alice --json',
    '  wopi-bridge config set DOCS_URL https://office.example.com',
    '  wopi-bridge check',
    '  wopi-bridge encryption --json',
    '  wopi-bridge smoke /Welcome.docx',
    '  wopi-bridge discovery',
    '  wopi-bridge locks list',
    '',
  );
  return lines.join('\n');
}

function commandHelp(c: Command): string {
  return ['Usage: wopi-bridge <command> [options]', '', ...c.synopsis.map((s) => `  ${s}`), '', c.summary, '', c.help, GLOBAL_OPTIONS].join('\n');
}

/** First line of a message (no stack, no multi-line dumps). */
function oneLine(message: string): string {
  return message.split('\n')[0] ?? '';
}

async function main(argv: string[]): Promise<ExitCode> {
  const noColor = argv.includes('--no-color');
  const args = argv.filter((a) => a !== '--no-color');
  const cli: Cli = processCli(noColor);
  const [name, ...rest] = args;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    cli.out(topic ? commandHelp(topic) : overview());
    return name === undefined ? EXIT.UNKNOWN : EXIT.OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    cli.warn(`unknown command "${name}"; see wopi-bridge --help`);
    return EXIT.UNKNOWN;
  }
  // `--` ends the options: a value after it is never taken for --help.
  const end = rest.indexOf('--');
  if ((end < 0 ? rest : rest.slice(0, end)).some((a) => a === '--help' || a === '-h')) {
    cli.out(commandHelp(command));
    return EXIT.OK;
  }
  try {
    return await command.run(rest, cli);
  } catch (e) {
    if (e instanceof UsageError) {
      cli.warn(e.message);
      return EXIT.UNKNOWN;
    }
    if (e instanceof ConfigError) {
      cli.warn(`invalid configuration: ${e.problems.join('; ')}`);
      return EXIT.UNKNOWN;
    }
    if (e instanceof CommandFailure) {
      cli.warn(e.message);
      return e.exitCode;
    }
    if (e instanceof StorageError) {
      cli.warn(`the drive failed: ${oneLine(e.message)}`);
      return command.failureExit ?? EXIT.CRITICAL;
    }
    if (isWopiError(e) && e.code === 'state_store_unavailable') {
      const reason = typeof e.detail.reason === 'string' ? `: ${e.detail.reason}` : '';
      cli.warn(`the state store failed${reason}`);
      return command.failureExit ?? EXIT.CRITICAL;
    }
    cli.warn(oneLine((e as Error).message ?? String(e)));
    return command.unexpectedExit ?? EXIT.UNKNOWN;
  }
}

// A reader that closes the pipe early (| head) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
});

process.exitCode = await main(process.argv.slice(2));
