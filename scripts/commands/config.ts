/**
 * `wopi-bridge config get|set|unset|check`: the settings file (DATA_DIR/settings.json, mode 0600) without the
 * admin page. The environment wins over the file; secrets are write-only (shown as set / not set), read from stdin
 * or a file, never from the command line and never echoed. A change that would make the configuration invalid is
 * refused and the file left as it was. With REDIS_URL, changes go where the admin page writes them: the file and
 * the settings shared through Redis (secrets sealed), which every instance loads over its own file.
 */
import { stat } from 'node:fs/promises';
import type { Config } from '../../connector/src/config/config.js';
import { ConfigError, loadConfig, resolveDataDir } from '../../connector/src/config/loadConfig.js';
import { loadOrCreateSecrets } from '../../connector/src/config/generatedSecrets.js';
import { loadEffectiveConfig, openSharedSettingsStore, sealedSharedSettings } from '../../connector/src/config/loadEffectiveConfig.js';
import {
  LOCAL_ONLY_SETTINGS,
  SETTING_KEYS,
  mergeSharedSettings,
  readSettings,
  readSharedSettings,
  settingKey,
  settingsPath,
  writeSettings,
  writeSharedSettings,
  type SettingKey,
  type SharedSettingsStore,
} from '../../connector/src/config/settingsFile.js';
import type { Command } from '../cli/command.js';
import type { Cli } from '../cli/context.js';
import { parse, readAllStdin, readHiddenLine, readValueFile } from '../cli/args.js';
import { CommandFailure, EXIT, UsageError, type ExitCode } from '../cli/exitCodes.js';
import { jsonText, renderTable } from '../cli/output.js';

type Env = Record<string, string | undefined>;
type Source = 'environment' | 'settings file' | 'shared (Redis)' | 'default';

/** What the bridge uses when a key is set nowhere (shown for `default`), from the loaded configuration. */
const DEFAULT_SHOWN: Record<string, (c: Config) => string | null> = {
  PUBLIC_URL: (c) => c.publicUrl,
  DOCS_INTERNAL_URL: (c) => c.docs.internalUrl,
  DOCS_PUBLIC_URL: (c) => c.docs.publicUrl,
  DOCS_JWT_HEADER: (c) => c.docs.jwtHeader,
  DOCS_TLS_VERIFY: (c) => String(c.docs.tlsVerify),
  WOPI_PROOF_MODE: (c) => c.docs.proofMode,
  STORAGE_FLAVOUR: (c) => c.storage.flavour,
  LOG_LEVEL: (c) => c.logLevel,
};

const nonEmpty = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/** The environment variable that sets a key, if any (`KEY`, or `KEY_FILE` for a secret). */
function envSetter(env: Env, key: SettingKey): string | null {
  if (nonEmpty(env[key.key])) return key.key;
  if (key.secret && nonEmpty(env[`${key.key}_FILE`])) return `${key.key}_FILE`;
  return null;
}

/** One row of `config get`. */
interface Row {
  key: string;
  secret: boolean;
  /** Whether the key has a value (from the environment, the file or a default). */
  set: boolean;
  /** The value in force; null for secrets and for keys set nowhere. */
  value: string | null;
  source: Source;
  /** The environment sets it: the settings file cannot change it. */
  locked: boolean;
  /** The variable that locks it (KEY or KEY_FILE). */
  environmentVariable: string | null;
  description: string;
}

function rowOf(key: SettingKey, env: Env, settings: Record<string, string>, config: Config | null, shared: boolean): Row {
  const setter = envSetter(env, key);
  const base = { key: key.key, secret: key.secret, description: key.description, locked: setter !== null, environmentVariable: setter };
  if (setter !== null) {
    return { ...base, set: true, value: key.secret || setter !== key.key ? null : (env[key.key] as string).trim(), source: 'environment' };
  }
  const fromFile = settings[key.key];
  if (fromFile !== undefined) {
    const source: Source = shared && !LOCAL_ONLY_SETTINGS.includes(key.key) ? 'shared (Redis)' : 'settings file';
    return { ...base, set: true, value: key.secret ? null : fromFile, source };
  }
  const shown = config && !key.secret ? (DEFAULT_SHOWN[key.key]?.(config) ?? null) : null;
  return { ...base, set: shown !== null, value: shown, source: 'default' };
}

function sourceText(row: Row): string {
  if (row.source === 'environment') return row.environmentVariable === row.key ? 'environment (locked)' : `environment, ${row.environmentVariable} (locked)`;
  return row.source;
}

function valueText(row: Row): string {
  if (row.secret) return row.set ? 'set' : 'not set';
  return row.value ?? 'not set';
}

/**
 * The problems the configuration would have with these settings (the environment still winning), each with its fix.
 * The same merge as loadEffectiveConfig, applied to settings not yet written.
 */
async function problemsWith(env: Env, settings: Record<string, string>, dataDir: string): Promise<string[]> {
  const merged: Env = { ...settings };
  for (const [k, v] of Object.entries(env)) if (nonEmpty(v)) merged[k] = v;
  try {
    loadConfig(merged, await loadOrCreateSecrets(dataDir));
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

/** The settings shared through Redis, opened for a change. */
interface SharedSettings {
  store: SharedSettingsStore;
  /** The shared values (null: no instance saved any yet). */
  values: Record<string, string> | null;
  close(): Promise<void>;
}

/**
 * Opens the settings shared through Redis when the configuration has REDIS_URL (null without), so a change lands
 * where the admin page writes it: a value only in this machine's file would be hidden by the shared one.
 * @param keys the keys about to change (REDIS_URL alone stays per machine: Redis is not needed for it)
 * @throws CommandFailure when Redis does not answer (nothing has been changed yet)
 */
async function openShared(cli: Cli, keys: string[]): Promise<SharedSettings | null> {
  if (keys.every((k) => LOCAL_ONLY_SETTINGS.includes(k))) return null;
  let config: Config;
  try {
    config = (await loadEffectiveConfig(cli.env)).config;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const file = await readSettings(resolveDataDir(cli.env));
    if (nonEmpty(cli.env.REDIS_URL) || file.REDIS_URL !== undefined) {
      cli.warn('warning: the configuration has problems, so the settings shared through Redis were not read or changed: run wopi-bridge config check');
    }
    return null;
  }
  if (config.redisUrl === null) return null;
  let opened: SharedSettingsStore & { close(): Promise<void> };
  try {
    opened = await openSharedSettingsStore(config.redisUrl);
  } catch {
    throw new CommandFailure(
      'Redis (REDIS_URL) is not reachable, so nothing was changed: the settings are shared through it and every instance loads the shared values over its own settings file. Start Redis and try again, or remove REDIS_URL first.',
      EXIT.CRITICAL,
    );
  }
  try {
    const store = sealedSharedSettings(opened, config.tokens.secret);
    return { store, values: await readSharedSettings(store), close: () => opened.close() };
  } catch {
    await opened.close();
    throw new CommandFailure('Redis (REDIS_URL) does not answer, so nothing was changed. Start Redis and try again.', EXIT.CRITICAL);
  }
}

/** The key as a setting, or a usage error that says what to do instead. */
function knownKey(raw: string): SettingKey {
  const key = settingKey(raw);
  if (key) return key;
  const known = SETTING_KEYS.map((k) => k.key).join(', ');
  throw new UsageError(`${raw} is not a setting the settings file may hold (set it in the environment instead); settings: ${known}`);
}

const USAGE = {
  get: 'usage: wopi-bridge config get [KEY] [--json]',
  set: 'usage: wopi-bridge config set KEY [VALUE] [--stdin | --from-file PATH] [--with KEY=VALUE …]',
  unset: 'usage: wopi-bridge config unset KEY [KEY…]',
  check: 'usage: wopi-bridge config check [--json]',
};

async function get(args: string[], cli: Cli): Promise<ExitCode> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, { min: 0, max: 1, usage: USAGE.get });
  const keys = positionals[0] === undefined ? SETTING_KEYS : [knownKey(positionals[0])];
  const dataDir = resolveDataDir(cli.env);
  let settings = await readSettings(dataDir);
  let config: Config | null = null;
  let shared = false;
  let invalid = false;
  try {
    const eff = await loadEffectiveConfig(cli.env);
    ({ config, settings } = eff);
    shared = eff.shared !== null;
    if (eff.sharedProblem !== null) cli.warn(`warning: ${eff.sharedProblem}`);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    invalid = true;
  }
  const rows = keys.map((k) => rowOf(k, cli.env, settings, config, shared));
  if (values.json) {
    cli.out(jsonText(positionals[0] === undefined ? { dataDir, settingsFile: settingsPath(dataDir), valid: !invalid, settings: rows } : rows[0]));
  } else if (positionals[0] !== undefined) {
    const r = rows[0] as Row;
    cli.out(
      [
        `${cli.style.bold(r.key)}${r.secret ? ' (secret)' : ''}`,
        `  value:   ${valueText(r)}`,
        `  source:  ${sourceText(r)}`,
        `  meaning: ${r.description}`,
        '',
      ].join('\n'),
    );
  } else {
    const style = cli.style;
    cli.out(
      renderTable(
        ['KEY', 'VALUE', 'SOURCE'],
        rows.map((r) => [r.key, r.set ? valueText(r) : style.dim(valueText(r)), r.locked ? style.yellow(sourceText(r)) : sourceText(r)]),
        style,
      ) + `\nsettings file: ${settingsPath(dataDir)}\n`,
    );
  }
  if (invalid) cli.warn('the configuration has problems (defaults not shown); run wopi-bridge config check');
  return EXIT.OK;
}

/** A refusal that says what to do when the problem is another setting this one needs. */
function refusal(problems: string[], changed: string[]): UsageError {
  const others = SETTING_KEYS.some((k) => !changed.includes(k.key) && problems.some((p) => new RegExp(`\\b${k.key}\\b`).test(p)));
  const hint = others ? ' (settings that go together are changed in one command: config set KEY [VALUE] --with OTHER=VALUE, config unset KEY OTHER)' : '';
  return new UsageError(`refused, the settings file is unchanged: ${problems.join('; ')}${hint}`);
}

/** `--with KEY=VALUE`: plain settings changed in the same write. */
function withPairs(raw: string[] | undefined, first: SettingKey): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of raw ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError('--with takes KEY=VALUE, e.g. --with STORAGE_USER=alice');
    const key = knownKey(pair.slice(0, eq));
    if (key.secret) throw new UsageError(`${key.key} is a secret: it is never taken from the command line; set it on its own (from stdin or --from-file) with the other settings as --with`);
    if (key.key === first.key || out[key.key] !== undefined) throw new UsageError(`${key.key} is given twice`);
    const value = pair.slice(eq + 1).trim();
    if (value === '' || /[\r\n]/.test(value)) throw new UsageError(`--with ${key.key}= needs a one-line value`);
    out[key.key] = value;
  }
  return out;
}

async function set(args: string[], cli: Cli): Promise<ExitCode> {
  const { values, positionals } = parse(
    args,
    { stdin: { type: 'boolean' }, 'from-file': { type: 'string' }, with: { type: 'string', multiple: true } },
    { min: 1, max: 2, usage: USAGE.set },
  );
  const key = knownKey(positionals[0] as string);
  const argValue = positionals[1];
  if (key.secret && argValue !== undefined) {
    // The value is not repeated: it is a secret typed where it does not belong.
    throw new UsageError(
      `${key.key} is a secret: it is never taken from the command line, where it would stay in the shell history and show in ps; ` +
        `give it on stdin (wopi-bridge config set ${key.key}, then type it or pipe it) or with --from-file PATH`,
    );
  }
  const also = withPairs(values.with, key);
  const given = [argValue !== undefined, values.stdin === true, values['from-file'] !== undefined].filter(Boolean).length;
  if (given > 1) throw new UsageError(`give the value one way: as an argument, --stdin or --from-file; ${USAGE.set}`);
  let value: string;
  if (argValue !== undefined) value = argValue;
  else if (values['from-file'] !== undefined) value = await readValueFile(values['from-file'], '--from-file');
  else if (values.stdin === true || key.secret) {
    value = cli.interactive ? await readHiddenLine(cli, `${key.key}${key.secret ? ' (not shown)' : ''}: `) : await readAllStdin(cli, key.key);
  } else {
    throw new UsageError(`no value for ${key.key}; ${USAGE.set} (to remove it: wopi-bridge config unset ${key.key})`);
  }
  value = value.trim();
  if (value === '') throw new UsageError(`empty value for ${key.key}; nothing changed (to remove it: wopi-bridge config unset ${key.key})`);
  if (/[\r\n]/.test(value)) throw new UsageError(`the value of ${key.key} must be one line; nothing changed`);

  const dataDir = resolveDataDir(cli.env);
  const file = await readSettings(dataDir);
  const updates = { [key.key]: value, ...also };
  const shared = await openShared(cli, Object.keys(updates));
  try {
    // What the bridge loads: the shared values over this machine's file (see mergeSharedSettings).
    const current = shared ? mergeSharedSettings(file, shared.values) : file;
    const before = await problemsWith(cli.env, current, dataDir);
    const after = await problemsWith(cli.env, { ...current, ...updates }, dataDir);
    const introduced = after.filter((p) => !before.includes(p));
    if (introduced.length > 0) throw refusal(introduced, Object.keys(updates));
    await writeSettings(dataDir, updates);
    if (shared) await writeSharedSettings(shared.store, updates, current);
    const names = Object.keys(updates).join(', ');
    const where = `${settingsPath(dataDir)}${shared ? ' and in the settings shared through Redis' : ''}`;
    cli.out(`${names} saved in ${where}${key.secret ? ` (${key.key} is a secret: not shown)` : ''}. Restart the bridge to use ${Object.keys(updates).length > 1 ? 'them' : 'it'}.\n`);
    return warnAfterChange(cli, [key, ...Object.keys(also).map(knownKey)], after);
  } finally {
    await shared?.close();
  }
}

/** Warns when the environment overrides a changed key or the configuration still has (older) problems. */
function warnAfterChange(cli: Cli, keys: SettingKey[], remaining: string[]): ExitCode {
  let code: ExitCode = EXIT.OK;
  for (const key of keys) {
    const setter = envSetter(cli.env, key);
    if (setter === null) continue;
    cli.warn(`warning: ${setter} is set in the environment, which wins over the settings file: the bridge keeps using the environment's value until ${setter} is removed`);
    code = EXIT.WARNING;
  }
  if (remaining.length > 0) {
    cli.warn(`warning: the configuration still has problems: ${remaining.join('; ')}`);
    code = EXIT.WARNING;
  }
  return code;
}

async function unset(args: string[], cli: Cli): Promise<ExitCode> {
  const { positionals } = parse(args, {}, { min: 1, max: SETTING_KEYS.length, usage: USAGE.unset });
  const keys = positionals.map(knownKey);
  const dataDir = resolveDataDir(cli.env);
  const file = await readSettings(dataDir);
  const shared = await openShared(cli, keys.map((k) => k.key));
  try {
    const current = shared ? mergeSharedSettings(file, shared.values) : file;
    const present = keys.filter((k) => current[k.key] !== undefined || file[k.key] !== undefined);
    const where = shared ? 'the settings file nor in the shared settings' : 'the settings file';
    for (const k of keys.filter((k) => !present.includes(k))) cli.out(`${k.key} is not in ${where}; nothing changed.\n`);
    if (present.length === 0) return EXIT.OK;
    const rest = { ...current };
    for (const k of present) delete rest[k.key];
    const before = await problemsWith(cli.env, current, dataDir);
    const after = await problemsWith(cli.env, rest, dataDir);
    const introduced = after.filter((p) => !before.includes(p));
    if (introduced.length > 0) throw refusal(introduced, present.map((k) => k.key));
    const removals = Object.fromEntries(present.map((k) => [k.key, null]));
    await writeSettings(dataDir, removals);
    if (shared) await writeSharedSettings(shared.store, removals, current);
    cli.out(`${present.map((k) => k.key).join(', ')} removed from ${settingsPath(dataDir)}${shared ? ' and from the settings shared through Redis' : ''}. Restart the bridge to apply it.\n`);
    return warnAfterChange(cli, present, after);
  } finally {
    await shared?.close();
  }
}

async function check(args: string[], cli: Cli): Promise<ExitCode> {
  const { values } = parse(args, { json: { type: 'boolean' } }, { min: 0, max: 0, usage: USAGE.check });
  const dataDir = resolveDataDir(cli.env);
  const file = settingsPath(dataDir);
  const problems: string[] = [];
  let settingsKeys: string[] = [];
  try {
    const mode = (await stat(file)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      problems.push(`${file} may be read by other users (mode ${mode.toString(8).padStart(4, '0')}) and can hold secrets; run chmod 600 ${file}`);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`${file} cannot be inspected (${(e as NodeJS.ErrnoException).code ?? 'error'}); check its permissions`);
  }
  let config: Config | null = null;
  try {
    const eff = await loadEffectiveConfig(cli.env);
    config = eff.config;
    settingsKeys = Object.keys(eff.settings);
  } catch (e) {
    if (e instanceof ConfigError) problems.push(...e.problems);
    else problems.push(`${(e as Error).message.split('\n')[0]}`);
  }
  const locked = SETTING_KEYS.map((k) => envSetter(cli.env, k)).filter((s): s is string => s !== null);
  const status = problems.length === 0 ? 'ok' : 'fail';
  if (values.json) {
    cli.out(jsonText({ status, problems, dataDir, settingsFile: file, settings: settingsKeys, lockedByEnvironment: locked }));
  } else {
    const style = cli.style;
    const lines = [
      problems.length === 0 ? `Configuration: ${style.green('OK')}` : `Configuration: ${style.red(`${problems.length} problem${problems.length === 1 ? '' : 's'}`)}`,
      ...problems.map((p) => `  ${style.red('✗')} ${p}`),
      `  data folder:    ${dataDir}`,
      `  settings file:  ${file}${settingsKeys.length > 0 ? ` (${settingsKeys.join(', ')})` : ''}`,
    ];
    if (locked.length > 0) lines.push(`  environment:    ${locked.join(', ')} (win over the settings file)`);
    if (config) {
      lines.push(`  drive:          ${config.storage.url ?? `embedded, ${config.embedded.filesDir}`}`);
      lines.push(`  DocumentServer: ${config.docs.internalUrl ?? 'not configured (set DOCS_URL)'}`);
      lines.push(`  state store:    ${config.redisUrl !== null ? 'Redis (REDIS_URL)' : 'SQLite in the data folder'}`);
    }
    cli.out(lines.join('\n') + '\n');
  }
  return status === 'ok' ? EXIT.OK : EXIT.CRITICAL;
}

const SUBCOMMANDS: Record<string, (args: string[], cli: Cli) => Promise<ExitCode>> = { get, set, unset, check };

export const configCommand: Command = {
  name: 'config',
  synopsis: [
    'config get [KEY] [--json]',
    'config set KEY [VALUE] [--stdin | --from-file PATH] [--with KEY=VALUE …]',
    'config unset KEY [KEY…]',
    'config check [--json]',
  ],
  summary: 'Read and change the settings file (DATA_DIR/settings.json) without the admin page, then check the configuration.',
  help: `get      every setting with its value (secrets only as set / not set) and where it comes from:
         environment (locked: the environment wins over the file), settings file or default.
set      writes one setting into the settings file (mode 0600). Secrets are never taken from the command line:
         they are read from stdin (typed without echo on a terminal, or piped) or with --from-file PATH, and never
         printed. The secrets: ${SETTING_KEYS.filter((k) => k.secret)
           .map((k) => k.key)
           .join(', ')}.
         The result is validated as the server would load it; a change that makes it invalid is refused and the
         file left unchanged.
         Settings that only make sense together (STORAGE_USER and STORAGE_PASSWORD) are written in one go:
         the secret as above, the others with --with KEY=VALUE.
unset    removes settings from the file.
         With REDIS_URL, set and unset also change the settings shared through Redis (as the admin page does:
         every instance loads them over its own file; secrets are kept there encrypted); when Redis does not
         answer, nothing is changed.
check    loads the configuration as the server does and lists every problem with its fix.

Options:
  --json            one JSON document on stdout (get, check)
  --stdin           read the value from stdin (any key)
  --from-file PATH  read the value from a file (trailing line breaks dropped)
  --with KEY=VALUE  also set this (not secret) setting in the same write; repeatable

Exit codes: 0 done / configuration OK, 1 done with a warning (the environment overrides the key, or older
problems remain), 2 the configuration has problems (check), 3 usage error or refused change.

Examples:
  wopi-bridge config get
  wopi-bridge config get DOCS_URL --json
  wopi-bridge config set DOCS_URL https://office.example.com
  wopi-bridge config set DOCS_JWT_SECRET                 # type it; nothing is echoed
  ssh docs cat /run/secrets/jwt | wopi-bridge config set DOCS_JWT_SECRET
  wopi-bridge config set STORAGE_PASSWORD --from-file /run/secrets/nextcloud-app-password \\
      --with STORAGE_URL=https://cloud.example.com/remote.php/dav/files/alice --with STORAGE_USER=alice
  wopi-bridge config unset DOCS_PUBLIC_URL
  wopi-bridge config check || echo "fix the configuration first"
`,
  async run(args, cli) {
    const [sub, ...rest] = args;
    const fn = sub === undefined ? undefined : SUBCOMMANDS[sub];
    if (!fn) throw new UsageError(`config needs get, set, unset or check; see wopi-bridge config --help`);
    return fn(rest, cli);
  },
};
