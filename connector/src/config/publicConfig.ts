import type { Config } from './config.js';

/**
 * The configuration as it may be shown (startup log, admin page): an allow-list, secrets only as { configured }.
 * @param config the validated config
 */
export function publicConfig(config: Config): Record<string, unknown> {
  return {
    host: config.host,
    port: config.port,
    publicUrl: config.publicUrl,
    dataDir: config.dataDir,
    storage: {
      url: config.storage.url ?? 'embedded',
      username: config.storage.username,
      password: { configured: config.storage.password !== null },
      flavour: config.storage.flavour,
      adminUsername: config.storage.adminUsername,
      adminPassword: { configured: config.storage.adminPassword !== null },
      timeoutMs: config.storage.timeoutMs,
    },
    embeddedFilesDir: config.storage.url === null ? config.embedded.filesDir : undefined,
    docs: {
      internalUrl: config.docs.internalUrl,
      proofMode: config.docs.proofMode,
      discoveryRefreshSeconds: config.docs.discoveryRefreshSeconds,
      publicUrl: config.docs.publicUrl,
      jwtSecret: { configured: config.docs.jwtSecret !== null },
      jwtHeader: config.docs.jwtHeader,
      nodeUrls: config.docs.nodeUrls,
      tlsVerify: config.docs.tlsVerify,
      caFile: config.docs.caFile,
    },
    redis: config.redisUrl === null ? null : redactUrl(config.redisUrl),
    tokenSecret: { configured: true },
    tokenTtlSeconds: config.tokens.ttlSeconds,
    lockTtlSeconds: config.lockTtlSeconds,
    maxUploadBytes: config.maxUploadBytes,
    postMessageOrigin: config.postMessageOrigin,
    adminPassword: { configured: config.adminPassword !== null },
    checkIntervalMinutes: config.checkIntervalMinutes,
  };
}

/** A URL without its password (redis://:secret@host → redis://:***@host). */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
