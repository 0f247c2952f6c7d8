/**
 * `wopi-bridge locks list|show|release`: the WOPI locks in the server's own state store (SQLite in DATA_DIR, or
 * Redis with REDIS_URL), and the release of a stuck one — confirmed, compare-and-set on the lock shown, and logged.
 * The drive is not opened, so this works while the drive is down.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import type { Config } from '../../connector/src/config/config.js';
import { FileIndex } from '../../connector/src/files/FileIndex.js';
import { Locks, type LockState } from '../../connector/src/locks/Locks.js';
import type { StateStore } from '../../connector/src/state/StateStore.js';
import type { StorageAdapter } from '../../connector/src/storage/StorageAdapter.js';
import { isWopiError } from '../../connector/src/errors/errors.js';
import type { Command } from '../cli/command.js';
import type { Cli } from '../cli/context.js';
import { confirm, parse } from '../cli/args.js';
import { EXIT, UsageError, type ExitCode } from '../cli/exitCodes.js';
import { jsonText, localTime, relative, renderTable } from '../cli/output.js';
import { cliLogger, loadCliConfig, openStateStore, sqlitePath } from '../cli/runtime.js';

/** FileIndex reads paths from the state store alone; the drive is never asked here. */
const NO_DRIVE = new Proxy({} as StorageAdapter, {
  get(_t, prop) {
    throw new Error(`the drive is not opened by wopi-bridge locks (${String(prop)})`);
  },
});

interface Opened {
  config: Config;
  state: StateStore;
  locks: Locks;
  files: FileIndex;
}

/** Opens the state store the server uses; warns when this data folder has no state database yet. */
async function open(cli: Cli): Promise<Opened | null> {
  const { config } = await loadCliConfig(cli);
  if (config.redisUrl === null && !existsSync(sqlitePath(config))) {
    cli.warn(`warning: no state database at ${sqlitePath(config)}: no bridge has run with this DATA_DIR (is it the server's?)`);
    return null;
  }
  const state = await openStateStore(config);
  return { config, state, locks: new Locks(state, config.lockTtlSeconds * 1000), files: new FileIndex(state, NO_DRIVE) };
}

async function pathOf(files: FileIndex, fileId: string): Promise<string | null> {
  try {
    return await files.pathOf(fileId);
  } catch (e) {
    if (isWopiError(e) && e.status === 404) return null;
    throw e;
  }
}

function fileIdArg(raw: string): string {
  if (!FileIndex.isWellFormed(raw)) throw new UsageError('a file id is 1 to 64 characters from A-Z a-z 0-9 _ - (wopi-bridge locks list shows them)');
  return raw;
}

interface LockRow {
  fileId: string;
  path: string | null;
  lockId: string;
  since: string;
  expiresAt: string | null;
}

function rowOf(fileId: string, path: string | null, lock: LockState, expiresAt: number | null): LockRow {
  return { fileId, path, lockId: lock.id, since: new Date(lock.since).toISOString(), expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString() };
}

async function list(args: string[], cli: Cli): Promise<ExitCode> {
  const { values } = parse(args, { json: { type: 'boolean' } }, { min: 0, max: 0, usage: 'usage: wopi-bridge locks list [--json]' });
  const o = await open(cli);
  if (o === null) {
    cli.out(values.json ? jsonText([]) : 'No locks.\n');
    return EXIT.WARNING;
  }
  try {
    const rows: LockRow[] = [];
    for (const l of await o.locks.list()) rows.push(rowOf(l.fileId, await pathOf(o.files, l.fileId), l.lock, l.expiresAt));
    if (values.json) {
      cli.out(jsonText(rows));
    } else if (rows.length === 0) {
      cli.out('No locks.\n');
    } else {
      const now = Date.now();
      const style = cli.style;
      cli.out(
        renderTable(
          ['FILE ID', 'PATH', 'LOCK ID', 'LOCKED SINCE', 'EXPIRES'],
          rows.map((r) => [
            r.fileId,
            r.path ?? style.dim('(unknown id)'),
            r.lockId,
            `${localTime(Date.parse(r.since))} (${relative(Date.parse(r.since), now)})`,
            r.expiresAt === null ? 'never' : relative(Date.parse(r.expiresAt), now),
          ]),
          style,
        ),
      );
    }
    return EXIT.OK;
  } finally {
    await o.state.close();
  }
}

async function show(args: string[], cli: Cli): Promise<ExitCode> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, { min: 1, max: 1, usage: 'usage: wopi-bridge locks show <fileId> [--json]' });
  const fileId = fileIdArg(positionals[0] as string);
  const o = await open(cli);
  if (o === null) {
    cli.out(values.json ? jsonText({ fileId, path: null, locked: false }) : `${fileId}: not locked\n`);
    return EXIT.WARNING;
  }
  try {
    const path = await pathOf(o.files, fileId);
    const entry = (await o.locks.list()).find((l) => l.fileId === fileId);
    if (values.json) {
      cli.out(jsonText(entry ? { ...rowOf(fileId, path, entry.lock, entry.expiresAt), locked: true } : { fileId, path, locked: false }));
      return EXIT.OK;
    }
    const now = Date.now();
    const lines = [`file id:      ${fileId}`, `path:         ${path ?? '(unknown id: not in the state store)'}`];
    if (entry) {
      lines.push(
        `locked:       yes`,
        `lock id:      ${entry.lock.id}`,
        `locked since: ${localTime(entry.lock.since)} (${relative(entry.lock.since, now)})`,
        `expires:      ${entry.expiresAt === null ? 'never' : `${localTime(entry.expiresAt)} (${relative(entry.expiresAt, now)})`}`,
      );
    } else {
      lines.push('locked:       no');
    }
    cli.out(lines.join('\n') + '\n');
    return EXIT.OK;
  } finally {
    await o.state.close();
  }
}

async function release(args: string[], cli: Cli): Promise<ExitCode> {
  const { values, positionals } = parse(args, { yes: { type: 'boolean', short: 'y' } }, { min: 1, max: 1, usage: 'usage: wopi-bridge locks release <fileId> [--yes]' });
  const fileId = fileIdArg(positionals[0] as string);
  if (!values.yes && !cli.interactive) {
    throw new UsageError('refusing to release a lock without confirmation: stdin is not a terminal; add --yes');
  }
  const o = await open(cli);
  if (o === null) {
    cli.out(`${fileId} is not locked; nothing to release.\n`);
    return EXIT.WARNING;
  }
  try {
    const lock = await o.locks.get(fileId);
    if (lock === null) {
      cli.out(`${fileId} is not locked; nothing to release.\n`);
      return EXIT.OK;
    }
    const path = await pathOf(o.files, fileId);
    const what = `${path ?? fileId} (file id ${fileId}, lock id ${lock.id}, locked since ${localTime(lock.since)})`;
    if (!values.yes) {
      const ok = await confirm(
        cli,
        `Release the lock on ${what}?\nAn editor still holding it can no longer save until it locks the file again.`,
      );
      if (!ok) {
        cli.out('Not released; the lock is kept.\n');
        return EXIT.WARNING;
      }
    }
    // Compare-and-set on the lock just shown: a lock taken in the meantime is not released by mistake.
    try {
      await o.locks.apply(fileId, { kind: 'unlock', id: lock.id });
    } catch (e) {
      if (isWopiError(e) && e.status === 409) {
        cli.warn(`the lock of ${fileId} changed meanwhile (${e.headers['X-WOPI-Lock'] ? 'another lock id now' : 'now unlocked'}); nothing released — look again with wopi-bridge locks show ${fileId}`);
        return EXIT.CRITICAL;
      }
      throw e;
    }
    cliLogger(o.config, 'warn').warn(
      { fileId, lockId: lock.id, path, lockedSince: new Date(lock.since).toISOString(), by: os.userInfo().username, command: 'wopi-bridge locks release' },
      'lock released by an administrator',
    );
    cli.out(`Released the lock on ${what}.\n`);
    return EXIT.OK;
  } finally {
    await o.state.close();
  }
}

const SUBCOMMANDS: Record<string, (args: string[], cli: Cli) => Promise<ExitCode>> = { list, show, release };

export const locksCommand: Command = {
  name: 'locks',
  synopsis: ['locks list [--json]', 'locks show <fileId> [--json]', 'locks release <fileId> [--yes]'],
  summary: "Inspect the WOPI locks in the server's state store and release a stuck one (confirmed, logged).",
  help: `Works on the state store the server uses: the SQLite database in DATA_DIR, or Redis when REDIS_URL is set.
The drive is not contacted.

list     every live lock: file id, path, lock id, since when, when it expires
show     one file's lock
release  removes a lock whatever editor holds it, after confirmation on a terminal (with --yes without asking;
         without a terminal --yes is required). Only the lock shown is released: if it changes meanwhile, nothing
         is. The release is logged at warn level on stderr (file id, lock id, path, who).
         An editor that still holds the lock cannot save until it locks again; DocumentServer relocks on reconnect.

Options:
  --json      one JSON document on stdout (list, show)
  -y, --yes   release without asking

Exit codes: 0 done, 1 not released (answered no) or no state database in DATA_DIR, 2 the lock changed meanwhile
or the state store failed, 3 usage or configuration error.

Examples:
  wopi-bridge locks list
  wopi-bridge locks show fAbC123
  wopi-bridge locks release fAbC123
  wopi-bridge locks release fAbC123 --yes 2>>/var/log/wopi-bridge-admin.log
`,
  async run(args, cli) {
    const [sub, ...rest] = args;
    const fn = sub === undefined ? undefined : SUBCOMMANDS[sub];
    if (!fn) throw new UsageError('locks needs list, show or release; see wopi-bridge locks --help');
    return fn(rest, cli);
  },
};
