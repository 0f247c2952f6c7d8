import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config, ProofMode, SignInMode, StorageFlavour } from './config.js';
import { parseTrustedProxies } from '../http/trustedProxies.js';

/** Every problem found in the configuration, each with its fix. Values are never included. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Secrets the bridge generated for itself on first start (kept in <dataDir>/secrets.json, mode 0600). */
export interface GeneratedSecrets {
  tokenSecret: string;
  embeddedPassword: string;
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const FLAVOURS = ['auto', 'nextcloud', 'owncloud', 'generic'] as const;
const PROOF_MODES = ['enforce', 'auto', 'off'] as const;
const SIGN_IN_MODES = ['auto', 'webdav', 'nextcloud', 'service'] as const;

/** The data folder, resolved before the rest because generated secrets live there. */
export function resolveDataDir(env: Env, cwd: string = process.cwd()): string {
  return path.resolve(cwd, env.DATA_DIR?.trim() || 'data');
}

/**
 * Reads and validates the configuration from the environment.
 * @param env variables (process.env in main)
 * @param generated secrets generated on first start; used only where the environment gives none
 * @returns a frozen Config
 * @throws ConfigError listing every invalid variable with its fix
 */
export function loadConfig(env: Env, generated: GeneratedSecrets, cwd: string = process.cwd()): Config {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === undefined) return def;
    if (!/^\d+$/.test(raw)) {
      problems.push(`${name} must be a whole number between ${min} and ${max}`);
      return def;
    }
    const n = Number(raw);
    if (n < min || n > max) {
      problems.push(`${name} must be between ${min} and ${max}`);
      return def;
    }
    return n;
  };
  const secret = (name: string, minBytes: number, fix: string): string | undefined => {
    const file = str(`${name}_FILE`);
    let value = str(name);
    if (file !== undefined) {
      if (value !== undefined) problems.push(`${name} and ${name}_FILE are both set; keep one`);
      try {
        value = readFileSync(file, 'utf8').trim();
      } catch {
        problems.push(`${name}_FILE names a file that cannot be read; check the path and its permissions`);
        return undefined;
      }
    }
    if (value !== undefined && Buffer.byteLength(value) < minBytes) {
      problems.push(`${name} must be at least ${minBytes} bytes; ${fix}`);
      return undefined;
    }
    return value;
  };
  const url = (name: string): string | null => {
    const raw = str(name);
    if (raw === undefined) return null;
    try {
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      if (u.username || u.password) {
        problems.push(`${name} must not contain credentials; use STORAGE_USER and STORAGE_PASSWORD`);
      }
      if (u.search || u.hash || /[?#]/.test(raw)) problems.push(`${name} must not contain a query string or fragment`);
      return u.href.replace(/\/+$/, '');
    } catch {
      problems.push(`${name} must be an http:// or https:// URL, e.g. https://cloud.example.com/remote.php/dav/files/alice`);
      return null;
    }
  };

  const origin = (name: string): string | undefined => {
    const raw = str(name);
    if (raw === undefined) return undefined;
    try {
      const u = new URL(raw);
      if ((u.protocol === 'http:' || u.protocol === 'https:') && u.origin === raw.replace(/\/$/, '')) return u.origin;
    } catch {
      // reported below
    }
    problems.push(`${name} must be an origin (scheme, host and optional port), e.g. https://office.example.com`);
    return undefined;
  };

  let host = str('HOST') ?? '127.0.0.1';
  // An IPv4/IPv6 address or a host name; anything else would end up in URLs.
  if (!/^([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|[0-9A-Fa-f:.]+)$/.test(host) || host.length > 253) {
    problems.push('HOST must be an IP address or host name, e.g. 127.0.0.1, 0.0.0.0 or ::');
    host = '127.0.0.1';
  }
  const port = int('PORT', 8080, 0, 65535);
  const dataDir = resolveDataDir(env, cwd);
  const publicUrl = url('PUBLIC_URL') ?? `http://${host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;

  const storageUrl = url('STORAGE_URL');
  const flavourRaw = (str('STORAGE_FLAVOUR') ?? 'auto').toLowerCase();
  if (!(FLAVOURS as readonly string[]).includes(flavourRaw)) {
    problems.push(`STORAGE_FLAVOUR must be one of ${FLAVOURS.join(', ')}`);
  }
  const username = str('STORAGE_USER') ?? null;
  const password = secret('STORAGE_PASSWORD', 1, 'set the drive password or an app password') ?? null;
  if (storageUrl !== null && (username === null) !== (password === null)) {
    problems.push('STORAGE_USER and STORAGE_PASSWORD go together: set both, or neither for a drive without authentication');
  }
  if (storageUrl === null && (username !== null || password !== null)) {
    problems.push('STORAGE_USER/STORAGE_PASSWORD are set but STORAGE_URL is not; set STORAGE_URL to the drive\'s WebDAV URL');
  }

  const tokenSecret =
    secret('WOPI_TOKEN_SECRET', 32, 'generate one with `openssl rand -hex 32`') ?? generated.tokenSecret;
  const docsUrl = url('DOCS_INTERNAL_URL') ?? url('DOCS_URL');
  const docsPublicUrl = url('DOCS_PUBLIC_URL') ?? url('DOCS_URL') ?? docsUrl;
  const nodeUrls: string[] = [];
  for (const [i, raw] of (str('DOCS_NODE_URLS') ?? '').split(',').map((x) => x.trim()).filter(Boolean).entries()) {
    try {
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      nodeUrls.push(u.href.replace(/\/+$/, ''));
    } catch {
      problems.push(`DOCS_NODE_URLS entry ${i + 1} must be an http:// or https:// URL`);
    }
  }
  const jwtHeader = str('DOCS_JWT_HEADER') ?? 'Authorization';
  if (!/^[A-Za-z0-9-]{1,64}$/.test(jwtHeader)) problems.push('DOCS_JWT_HEADER must be a header name, e.g. Authorization or AuthorizationJwt');
  const tlsRaw = (str('DOCS_TLS_VERIFY') ?? 'true').toLowerCase();
  if (!['true', 'false', '1', '0', 'yes', 'no'].includes(tlsRaw)) problems.push('DOCS_TLS_VERIFY must be true or false');
  const adminUser = str('STORAGE_ADMIN_USER') ?? null;
  const adminPassword = secret('STORAGE_ADMIN_PASSWORD', 1, 'set the drive admin password (used only by diagnostics)') ?? null;
  if ((adminUser === null) !== (adminPassword === null)) problems.push('STORAGE_ADMIN_USER and STORAGE_ADMIN_PASSWORD go together: set both, or neither');
  const proofRaw = (str('WOPI_PROOF_MODE') ?? 'auto').toLowerCase();
  if (!(PROOF_MODES as readonly string[]).includes(proofRaw)) problems.push(`WOPI_PROOF_MODE must be one of ${PROOF_MODES.join(', ')}`);
  if (proofRaw === 'enforce' && docsUrl === null) {
    problems.push('WOPI_PROOF_MODE=enforce needs DOCS_URL (the DocumentServer address) to read the proof keys from its discovery');
  }
  const redisRaw = str('REDIS_URL');
  let redisUrl: string | null = null;
  if (redisRaw !== undefined) {
    try {
      const u = new URL(redisRaw);
      if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error('scheme');
      redisUrl = redisRaw;
    } catch {
      problems.push('REDIS_URL must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0');
    }
  }
  const pagePassword = secret('ADMIN_PASSWORD', 12, 'choose a longer one, e.g. `openssl rand -base64 18`') ?? null;
  const signInRaw = (str('SIGN_IN_MODE') ?? 'auto').toLowerCase();
  if (!(SIGN_IN_MODES as readonly string[]).includes(signInRaw)) problems.push(`SIGN_IN_MODE must be one of ${SIGN_IN_MODES.join(', ')}`);
  const signInPassword = secret('SIGN_IN_PASSWORD', 12, 'choose a longer one, e.g. `openssl rand -base64 18`') ?? null;
  const loopback = (h: string): boolean => /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/i.test(h);
  const exposed = !loopback(host) || !loopback(new URL(publicUrl).hostname);
  if (signInRaw === 'service' && signInPassword === null && exposed) {
    problems.push('SIGN_IN_MODE=service on an address other machines reach needs SIGN_IN_PASSWORD (anyone could otherwise edit with the service account)');
  }
  if (signInRaw === 'nextcloud' && storageUrl === null) problems.push('SIGN_IN_MODE=nextcloud needs STORAGE_URL (the Nextcloud WebDAV URL)');
  if (signInRaw === 'webdav' && storageUrl === null) problems.push('SIGN_IN_MODE=webdav needs STORAGE_URL (the drive people sign in to)');
  const editableFormats: string[] = [];
  for (const raw of (str('EDITABLE_FORMATS') ?? '').split(',').map((x) => x.trim().toLowerCase().replace(/^\./, '')).filter(Boolean)) {
    if (/^[a-z0-9]{1,10}$/.test(raw)) editableFormats.push(raw);
    else problems.push('EDITABLE_FORMATS must be file extensions separated by commas, e.g. docx,xlsx,pptx');
  }
  const trustedProxies = (str('TRUSTED_PROXIES') ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const parsedProxies = parseTrustedProxies(trustedProxies);
  if ('invalid' in parsedProxies) {
    problems.push(`TRUSTED_PROXIES must list IP addresses or CIDR ranges, e.g. 127.0.0.1,10.0.0.0/8; not understood: ${parsedProxies.invalid.length} entr${parsedProxies.invalid.length === 1 ? 'y' : 'ies'}`);
  }
  const levelRaw = (str('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(levelRaw)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const config: Config = {
    host,
    port,
    publicUrl,
    dataDir,
    storage: {
      url: storageUrl,
      username,
      password,
      flavour: flavourRaw as 'auto' | StorageFlavour,
      timeoutMs: int('STORAGE_TIMEOUT_MS', 30_000, 100, 3_600_000),
      adminUsername: adminUser,
      adminPassword,
    },
    embedded: {
      filesDir: path.resolve(cwd, str('EMBEDDED_FILES_DIR') ?? path.join(dataDir, 'files')),
      port: int('EMBEDDED_WEBDAV_PORT', 0, 0, 65535),
      password: generated.embeddedPassword,
    },
    docs: {
      internalUrl: docsUrl,
      discoveryRefreshSeconds: int('DISCOVERY_REFRESH_SECONDS', 12 * 3600, 10, 7 * 24 * 3600),
      proofMode: proofRaw as ProofMode,
      timeoutMs: int('DOCS_TIMEOUT_MS', 10_000, 100, 600_000),
      publicUrl: docsPublicUrl,
      jwtSecret: secret('DOCS_JWT_SECRET', 1, 'set the secret from DS local.json services.CoAuthoring.secret.inbox.string') ?? null,
      jwtHeader,
      nodeUrls,
      tlsVerify: !['false', '0', 'no'].includes(tlsRaw),
      caFile: str('DOCS_CA_FILE') ?? null,
    },
    redisUrl,
    tokens: { secret: tokenSecret, ttlSeconds: int('TOKEN_TTL_SECONDS', 36_000, 60, 7 * 24 * 3600) },
    lockTtlSeconds: int('LOCK_TTL_SECONDS', 1800, 1, 24 * 3600),
    maxUploadBytes: int('MAX_UPLOAD_BYTES', 4 * 1024 ** 3, 1, Number.MAX_SAFE_INTEGER),
    postMessageOrigin: origin('POST_MESSAGE_ORIGIN') ?? new URL(publicUrl).origin,
    adminPassword: pagePassword,
    checkIntervalMinutes: int('CHECK_INTERVAL_MINUTES', 15, 0, 7 * 24 * 60),
    signIn: {
      mode: signInRaw as 'auto' | SignInMode,
      password: signInPassword,
      sessionTtlSeconds: int('SESSION_TTL_SECONDS', 12 * 3600, 60, 30 * 24 * 3600),
    },
    editableFormats: [...new Set(editableFormats)],
    http: {
      headersTimeoutMs: int('HEADERS_TIMEOUT_MS', 30_000, 1_000, 600_000),
      bodyIdleTimeoutMs: int('BODY_IDLE_TIMEOUT_MS', 30_000, 100, 3_600_000),
      requestTimeoutMs: int('REQUEST_TIMEOUT_MS', 3_600_000, 0, 24 * 3_600_000),
    },
    trustedProxies,
    logLevel: levelRaw as Config['logLevel'],
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) deepFreeze(v);
  return Object.freeze(o);
}
