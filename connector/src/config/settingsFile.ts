import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ConfigError } from './loadConfig.js';

/** A setting an admin may keep in the settings file (the admin page and `wopi-bridge config set` write it). */
export interface SettingKey {
  key: string;
  /** Secrets are write-only: shown as set / not set, never echoed. */
  secret: boolean;
  description: string;
}

/** The keys the settings file may hold; the environment variable of the same name wins over the file. */
export const SETTING_KEYS: readonly SettingKey[] = [
  { key: 'PUBLIC_URL', secret: false, description: 'the bridge as DocumentServer reaches it' },
  { key: 'DOCS_URL', secret: false, description: 'DocumentServer address (the bridge uses it; browsers too unless DOCS_PUBLIC_URL is set)' },
  { key: 'DOCS_INTERNAL_URL', secret: false, description: 'DocumentServer as the bridge reaches it, when different from DOCS_URL' },
  { key: 'DOCS_PUBLIC_URL', secret: false, description: 'DocumentServer as browsers reach it' },
  { key: 'DOCS_JWT_SECRET', secret: true, description: "DocumentServer's JWT secret (local.json services.CoAuthoring.secret.inbox.string)" },
  { key: 'DOCS_JWT_HEADER', secret: false, description: 'header DocumentServer reads tokens from (default Authorization)' },
  { key: 'DOCS_NODE_URLS', secret: false, description: 'every DocumentServer node of a cluster, comma-separated' },
  { key: 'DOCS_TLS_VERIFY', secret: false, description: "verify DocumentServer's TLS certificate (true/false)" },
  { key: 'DOCS_CA_FILE', secret: false, description: 'CA certificate file for a self-signed DocumentServer' },
  { key: 'WOPI_PROOF_MODE', secret: false, description: 'enforce, auto or off' },
  { key: 'STORAGE_URL', secret: false, description: "the drive's WebDAV URL" },
  { key: 'STORAGE_FLAVOUR', secret: false, description: 'auto, nextcloud, owncloud or generic' },
  { key: 'STORAGE_USER', secret: false, description: 'drive account' },
  { key: 'STORAGE_PASSWORD', secret: true, description: 'drive password or app password' },
  { key: 'STORAGE_ADMIN_USER', secret: false, description: 'drive admin account (diagnostics only)' },
  { key: 'STORAGE_ADMIN_PASSWORD', secret: true, description: 'drive admin password (diagnostics only)' },
  { key: 'REDIS_URL', secret: true, description: 'Redis for several bridge instances' },
  { key: 'SIGN_IN_MODE', secret: false, description: 'auto, webdav (own drive credentials), nextcloud (Login Flow v2) or service (one account, users named)' },
  { key: 'SIGN_IN_PASSWORD', secret: true, description: 'shared password for service-mode sign-in' },
  { key: 'SESSION_TTL_SECONDS', secret: false, description: 'lifetime of a user session in seconds' },
  { key: 'EDITABLE_FORMATS', secret: false, description: 'extensions that open for editing, comma-separated (empty = all DS can edit)' },
  { key: 'HEADERS_TIMEOUT_MS', secret: false, description: 'time a client has to send request headers' },
  { key: 'BODY_IDLE_TIMEOUT_MS', secret: false, description: 'longest pause in a request body before 408' },
  { key: 'REQUEST_TIMEOUT_MS', secret: false, description: 'longest whole request (0 = none)' },
  { key: 'TRUSTED_PROXIES', secret: false, description: 'reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For is believed' },
  { key: 'CHECK_INTERVAL_MINUTES', secret: false, description: 'minutes between background check runs (0 = off)' },
  { key: 'LOG_LEVEL', secret: false, description: 'fatal, error, warn, info, debug, trace or silent' },
];

/** The setting of a key, or undefined when the key is not one the settings file may hold. */
export function settingKey(key: string): SettingKey | undefined {
  return SETTING_KEYS.find((k) => k.key === key.toUpperCase());
}

/** Path of the settings file in a data folder. */
export function settingsPath(dataDir: string): string {
  return path.join(dataDir, 'settings.json');
}

/**
 * The settings file's values ({} when there is none).
 * @throws ConfigError when the file is not a JSON object of strings (with the fix)
 */
export async function readSettings(dataDir: string): Promise<Record<string, string>> {
  const file = settingsPath(dataDir);
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError([`${file} cannot be read; check its permissions`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError([`${file} is not valid JSON; fix it or delete it and set the values again`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([`${file} must hold a JSON object of settings`]);
  }
  const out: Record<string, string> = {};
  const problems: string[] = [];
  for (const [k, v] of Object.entries(parsed)) {
    if (!settingKey(k)) problems.push(`${file}: unknown setting ${k}`);
    else if (typeof v !== 'string') problems.push(`${file}: ${k} must be a string`);
    else out[k.toUpperCase()] = v;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

/**
 * Changes settings (null removes one) and writes the file atomically with mode 0600.
 * @throws ConfigError for a key the settings file may not hold
 */
export async function writeSettings(dataDir: string, updates: Record<string, string | null>): Promise<Record<string, string>> {
  const bad = Object.keys(updates).filter((k) => !settingKey(k));
  if (bad.length > 0) throw new ConfigError(bad.map((k) => `${k} is not a setting; known: ${SETTING_KEYS.map((s) => s.key).join(', ')}`));
  const current = await readSettings(dataDir);
  for (const [k, v] of Object.entries(updates)) {
    const key = k.toUpperCase();
    if (v === null) delete current[key];
    else current[key] = v;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = settingsPath(dataDir);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(current, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
  await chmod(file, 0o600);
  return current;
}

// ----- shared through the state store (Redis)

/** State-store namespace of the settings shared by every instance (with REDIS_URL). */
export const SHARED_SETTINGS_NAMESPACE = 'settings';
/** The one entry holding them all (one JSON object: a save replaces it at once). */
const SHARED_SETTINGS_KEY = 'current';
/** Settings that stay per machine: how to reach the shared store itself. */
export const LOCAL_ONLY_SETTINGS: readonly string[] = ['REDIS_URL'];

/** The part of the state store the shared settings need (StateStore has it). */
export interface SharedSettingsStore {
  get(ns: string, key: string): Promise<string | null>;
  compareAndSet(ns: string, key: string, expected: string | null, next: string | null): Promise<{ ok: boolean; current: string | null }>;
}

/** Parses the stored object: known keys with string values only (anything else is dropped). */
function parseShared(raw: string | null): Record<string, string> | null {
  if (raw === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    const def = settingKey(k);
    if (def && typeof v === 'string' && !LOCAL_ONLY_SETTINGS.includes(def.key)) out[def.key] = v;
  }
  return out;
}

/**
 * The shared settings, or null when no instance has saved any yet (then each machine's file applies alone).
 * @param store the state store (Redis)
 * @throws whatever the store throws
 */
export async function readSharedSettings(store: SharedSettingsStore): Promise<Record<string, string> | null> {
  return parseShared(await store.get(SHARED_SETTINGS_NAMESPACE, SHARED_SETTINGS_KEY));
}

/**
 * The settings in force on this machine: the settings file, replaced — once any instance has saved to the shared
 * store — by the shared values, except the per-machine ones (REDIS_URL).
 * @param file the settings file's values
 * @param shared the shared values (null = none saved yet)
 */
export function mergeSharedSettings(file: Readonly<Record<string, string>>, shared: Readonly<Record<string, string>> | null): Record<string, string> {
  if (shared === null) return { ...file };
  const out: Record<string, string> = { ...shared };
  for (const k of LOCAL_ONLY_SETTINGS) if (file[k] !== undefined) out[k] = file[k];
  return out;
}

/**
 * Applies changes to the shared settings (compare-and-set, so two admins saving at once both land).
 * @param store the state store (Redis)
 * @param updates changes (null removes a key); per-machine keys are left out
 * @param base the values to start from when nothing is shared yet (this machine's file)
 * @returns the shared values after the change
 * @throws Error when the store keeps changing under the write, or whatever the store throws
 */
export async function writeSharedSettings(
  store: SharedSettingsStore,
  updates: Readonly<Record<string, string | null>>,
  base: Readonly<Record<string, string>>,
): Promise<Record<string, string>> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const raw = await store.get(SHARED_SETTINGS_NAMESPACE, SHARED_SETTINGS_KEY);
    const next = { ...(parseShared(raw) ?? mergeSharedSettings({}, base)) };
    for (const k of LOCAL_ONLY_SETTINGS) delete next[k];
    for (const [k, v] of Object.entries(updates)) {
      const key = k.toUpperCase();
      if (LOCAL_ONLY_SETTINGS.includes(key) || !settingKey(key)) continue;
      if (v === null) delete next[key];
      else next[key] = v;
    }
    const cas = await store.compareAndSet(SHARED_SETTINGS_NAMESPACE, SHARED_SETTINGS_KEY, raw, JSON.stringify(next));
    if (cas.ok) return next;
  }
  throw new Error('the shared settings kept changing while saving; save again');
}
