#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ConfigError } from '../connector/src/config/loadConfig.js';
import { loadEffectiveConfig } from '../connector/src/config/loadEffectiveConfig.js';
import { createLogger } from '../connector/src/logging/createLogger.js';
import { createRuntime } from '../connector/src/runtime.js';
import { issueAccessToken } from '../connector/src/tokens/accessToken.js';
import { StorageError } from '../connector/src/storage/StorageAdapter.js';

/** Exit codes (monitoring-plugin style): 0 ok, 1 a failure, 3 usage or configuration error. */
const EXIT_FAIL = 1;
const EXIT_USAGE = 3;

const HELP = `Usage: wopi-bridge <command> [options]

Commands:
  token <path>   Print WOPISrc, access_token and access_token_ttl for a file on the configured drive,
                 to reproduce a WOPI call with curl.
      --user NAME   user the token is issued to (default: admin)
      --view        a view-only token (no Lock/PutFile)
      --json        one JSON document on stdout

Configuration comes from the same environment as \`npm start\` (DATA_DIR, STORAGE_URL, …; see README).

Examples:
  wopi-bridge token /Welcome.docx
  wopi-bridge token "/Team/Q3 report.xlsx" --user alice --json
`;

class UsageError extends Error {}

async function token(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { user: { type: 'string' }, view: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('token needs exactly one path, e.g. wopi-bridge token /Welcome.docx');
  const raw = positionals[0] as string;
  const filePath = raw.startsWith('/') ? raw : `/${raw}`;
  const user = values.user ?? 'admin';
  if (!/^[^\u0000-\u001f]{1,100}$/.test(user)) throw new UsageError('--user must be 1 to 100 printable characters');

  const { config } = await loadEffectiveConfig(process.env);
  // Diagnostics go to stderr; stdout carries only the result.
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, pino.destination(2));
  const runtime = await createRuntime(config, log, { discovery: false });
  try {
    let info;
    try {
      info = await runtime.storage.stat(filePath);
    } catch (e) {
      if (e instanceof StorageError && (e.kind === 'not_found' || e.kind === 'forbidden')) {
        process.stderr.write(`wopi-bridge: ${filePath}: no such file on the drive\n`);
        return EXIT_FAIL;
      }
      throw e;
    }
    if (info.isDirectory) {
      process.stderr.write(`wopi-bridge: ${filePath} is a folder, not a file\n`);
      return EXIT_FAIL;
    }
    const fileId = await runtime.files.idFor(info);
    const canWrite = !values.view;
    const issued = issueAccessToken(config.tokens.secret, { userId: user, userName: user, fileId, canWrite }, config.tokens.ttlSeconds);
    const wopiSrc = `${config.publicUrl}/wopi/files/${fileId}`;
    if (values.json) {
      process.stdout.write(
        JSON.stringify({ path: filePath, fileId, wopiSrc, accessToken: issued.token, accessTokenTtl: issued.accessTokenTtl, user, canWrite }, null, 2) + '\n',
      );
    } else {
      process.stdout.write(
        [
          `file:             ${filePath}`,
          `file id:          ${fileId}`,
          `WOPISrc:          ${wopiSrc}`,
          `access_token:     ${issued.token}`,
          `access_token_ttl: ${issued.accessTokenTtl}  (expires ${new Date(issued.accessTokenTtl).toISOString()})`,
          `user:             ${user} (${canWrite ? 'can edit' : 'view only'})`,
          '',
          'CheckFileInfo:',
          `  curl -s '${wopiSrc}?access_token=${issued.token}'`,
          '',
        ].join('\n'),
      );
    }
    return 0;
  } finally {
    await runtime.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'token':
        return await token(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP);
        return command === undefined ? EXIT_USAGE : 0;
      default:
        throw new UsageError(`unknown command "${command}"; see wopi-bridge --help`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`wopi-bridge: ${(e as Error).message}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`wopi-bridge: ${e.message}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof StorageError) {
      process.stderr.write(`wopi-bridge: the drive failed: ${e.message}\n`);
      return EXIT_FAIL;
    }
    process.stderr.write(`wopi-bridge: ${(e as Error).message}\n`);
    return EXIT_FAIL;
  }
}

process.exitCode = await main(process.argv.slice(2));
