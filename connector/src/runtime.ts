import path from 'node:path';
import { access, readFile, writeFile } from 'node:fs/promises';
import type { Config, StorageFlavour } from './config/config.js';
import type { Logger } from './logging/createLogger.js';
import type { StateStore } from './state/StateStore.js';
import { SqliteStateStore } from './state/SqliteStateStore.js';
import { createRedisStateStore } from './state/RedisStateStore.js';
import type { StorageAdapter } from './storage/StorageAdapter.js';
import { WebdavStorage } from './storage/webdav/WebdavStorage.js';
import { detectFlavour } from './storage/webdav/detectFlavour.js';
// Types only: webdav-server (several MB of heap) is loaded only when the embedded drive is used.
import type { EmbeddedWebdav } from './storage/embedded/startEmbeddedWebdav.js';
import { writeSampleFiles } from './samples/samples.js';
import { FileIndex } from './files/FileIndex.js';
import { LoadedVersions } from './files/LoadedVersions.js';
import { Locks } from './locks/Locks.js';
import { DiscoveryClient } from './discovery/DiscoveryClient.js';
import type { ProofCounters } from './wopi/proofCheck.js';
import type { UserService } from './users/types.js';
import { createUserService } from './users/createUserService.js';
import { hasUserPlaceholder, userDavRoot } from './users/userDavRoot.js';

/** Everything the server and the CLI share: the drive, the state store and what is built on them. */
export interface Runtime {
  storage: StorageAdapter;
  state: StateStore;
  files: FileIndex;
  locks: Locks;
  versions: LoadedVersions;
  flavour: StorageFlavour;
  /** The embedded WebDAV server, when no STORAGE_URL is set. */
  embedded: EmbeddedWebdav | null;
  /** The folder the embedded drive serves, when embedded. */
  filesDir: string | null;
  /** How the drive is reached (the embedded server's URL and account, or the configured drive). */
  driveAccess: { davUrl: string; username: string | null; password: string | null };
  /** DS discovery, when DOCS_URL is set. */
  discovery: DiscoveryClient | null;
  proofCounters: ProofCounters;
  /** Sign-in sessions and each session's drive (users.mode is the resolved SIGN_IN_MODE). */
  users: UserService;
  close(): Promise<void>;
}

/**
 * Opens the state store and the drive: the configured WebDAV URL, or the embedded in-process WebDAV server over a
 * local folder (seeded with sample files on first start), reached through the same adapter.
 * @param config validated configuration
 * @param log root logger
 * @param options.discovery fetch DS discovery (the server does; one-shot CLI commands pass false)
 */
export async function createRuntime(config: Config, log: Logger, options: { discovery?: boolean } = {}): Promise<Runtime> {
  // Redis when several instances share the files; otherwise the on-disk store, so a restart loses no lock.
  const state: StateStore =
    config.redisUrl !== null ? await createRedisStateStore(config.redisUrl) : new SqliteStateStore(path.join(config.dataDir, 'state.sqlite'));
  let embedded: EmbeddedWebdav | null = null;
  try {
    let url = config.storage.url;
    let username = config.storage.username;
    let password = config.storage.password;
    let flavour: StorageFlavour;
    if (url === null) {
      // Seeded once per data folder (a marker, not the folder's existence: the CLI may create it first).
      const marker = path.join(config.dataDir, 'samples-written');
      const { startEmbeddedWebdav } = await import('./storage/embedded/startEmbeddedWebdav.js');
      embedded = await startEmbeddedWebdav(config.embedded.filesDir, config.embedded.password, config.embedded.port);
      if (!(await exists(marker))) {
        const written = await writeSampleFiles(config.embedded.filesDir);
        await writeFile(marker, `${new Date().toISOString()}\n`, { mode: 0o600 });
        log.info({ folder: config.embedded.filesDir, files: written }, 'created the embedded drive with sample files');
      }
      url = embedded.url;
      username = embedded.username;
      password = embedded.password;
      flavour = 'generic';
    } else {
      // A `{user}` placeholder in STORAGE_URL (per-user roots): the service account's own root is its own name's.
      if (username !== null && hasUserPlaceholder(url)) url = userDavRoot(url, username);
      if (config.storage.flavour === 'auto') {
        const status = await detectFlavour(url, Math.min(config.storage.timeoutMs, 10_000));
        flavour = status.flavour;
        log.info({ flavour, product: status.productName, version: status.version }, 'drive detected');
      } else {
        flavour = config.storage.flavour;
      }
    }
    const storage = new WebdavStorage({ url, username, password, flavour, timeoutMs: config.storage.timeoutMs });
    const lockTtlMs = config.lockTtlSeconds * 1000;
    const discovery =
      config.docs.internalUrl === null || options.discovery === false
        ? null
        : new DiscoveryClient({
            internalUrl: config.docs.internalUrl,
            refreshMs: config.docs.discoveryRefreshSeconds * 1000,
            timeoutMs: config.docs.timeoutMs,
            log,
            tls: { verify: config.docs.tlsVerify, ca: config.docs.caFile === null ? null : await readFile(config.docs.caFile) },
          });
    if (discovery) {
      discovery.start();
      // Not awaited: DS may be down at start; WOPI works on (proof mode auto) and checks report it.
      discovery.refresh().catch((e: unknown) => log.warn({ err: e, url: discovery.url }, 'discovery not loaded'));
    } else if (config.docs.proofMode !== 'off' && options.discovery !== false) {
      log.warn('no DOCS_URL: WOPI requests cannot be proven to come from DocumentServer');
    }
    const files = new FileIndex(state, storage);
    const users = createUserService({ config, log, state, storage, files, flavour, embedded: embedded !== null, davUrl: url });
    return {
      storage,
      state,
      files,
      locks: new Locks(state, lockTtlMs),
      versions: new LoadedVersions(state),
      flavour,
      embedded,
      filesDir: embedded ? config.embedded.filesDir : null,
      driveAccess: { davUrl: url, username, password },
      discovery,
      proofCounters: {},
      users,
      close: async () => {
        discovery?.stop();
        await users.close();
        await storage.close();
        await embedded?.stop();
        await state.close();
      },
    };
  } catch (e) {
    await embedded?.stop();
    await state.close();
    throw e;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}
