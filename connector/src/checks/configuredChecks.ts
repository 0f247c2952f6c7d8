import type { Config } from '../config/config.js';
import type { CheckResult } from './CheckResult.js';
import type { CheckDefinition } from './runChecks.js';
import { docsChecks, DOCS_CHECK_IDS } from './docsChecks.js';
import { checkDrive, DRIVE_CHECK_IDS } from './checkDrive.js';
import { checkStorageEncryption, ENCRYPTION_CHECK_IDS } from './checkStorageEncryption.js';
import { checkDocsReachesBridge, DOCS_REACHES_BRIDGE_ID, reachesBridgeTimeoutMs } from './checkDocsReachesBridge.js';
import { ProbeRecords } from './probe/ProbeRecords.js';
import type { StateStore } from '../state/StateStore.js';

/** How the bridge reaches its drive (for the embedded default: the in-process server's URL and account). */
export interface DriveAccess {
  davUrl: string;
  username: string | null;
  password: string | null;
}

/** Every check id, in display order. */
export const ALL_CHECK_IDS: readonly string[] = [
  ...DOCS_CHECK_IDS,
  DOCS_REACHES_BRIDGE_ID,
  DRIVE_CHECK_IDS.reachable,
  DRIVE_CHECK_IDS.credentials,
  DRIVE_CHECK_IDS.flavour,
  DRIVE_CHECK_IDS.root,
  ENCRYPTION_CHECK_IDS.settings,
  ENCRYPTION_CHECK_IDS.probe,
];

/**
 * Splits a function that returns several results (one set of requests) into one definition per result; the
 * function runs once, when the first of them starts.
 */
function shared(ids: readonly string[], titles: readonly string[], timeoutMs: number, run: (signal: AbortSignal) => Promise<CheckResult[]>): CheckDefinition[] {
  let once: Promise<CheckResult[]> | null = null;
  return ids.map((id, i) => ({
    id,
    title: titles[i] ?? id,
    timeoutMs,
    run: async (signal: AbortSignal) => {
      once ??= run(signal);
      const results = await once;
      const mine = results.find((r) => r.id === id);
      if (!mine) throw new Error(`check ${id} gave no result`);
      return mine;
    },
  }));
}

/**
 * The diagnostics for a configuration: DocumentServer (when DOCS_URL is set; otherwise they report it as not
 * configured), the drive, and its encryption state. The admin page, the HTTP API and the CLI all run these.
 * @param config the configuration to check (the one in force, or a candidate from "Check without saving")
 * @param drive how the drive is reached
 * @param options.adminPageUrl the page's own URL, for the mixed-content check
 * @param options.only run only these ids
 * @param options.state the running bridge's state store, where its probe endpoint records what DS sends (without
 *   it the "DocumentServer reaches the bridge" check is skipped)
 */
export function configuredChecks(
  config: Config,
  drive: DriveAccess,
  options: { adminPageUrl?: string | null; only?: readonly string[]; state?: StateStore | null } = {},
): CheckDefinition[] {
  const timeoutMs = config.docs.timeoutMs;
  const docsInput = {
    internalUrl: config.docs.internalUrl,
    publicUrl: config.docs.publicUrl,
    bridgeUrl: config.publicUrl,
    adminPageUrl: options.adminPageUrl ?? null,
    jwtSecret: config.docs.jwtSecret,
    jwtHeader: config.docs.jwtHeader,
    tlsVerify: config.docs.tlsVerify,
    caFile: config.docs.caFile,
    nodeUrls: config.docs.nodeUrls,
    proofMode: config.docs.proofMode,
    timeoutMs,
  };
  const docs = docsChecks(docsInput);
  const probes = options.state ? new ProbeRecords(options.state) : null;
  const reaches: CheckDefinition = {
    id: DOCS_REACHES_BRIDGE_ID,
    title: 'DocumentServer reaches the bridge',
    timeoutMs: reachesBridgeTimeoutMs(timeoutMs),
    run: (signal) => checkDocsReachesBridge({ ...docsInput, probes }, { signal }),
  };
  const driveInput = {
    davUrl: drive.davUrl,
    username: drive.username,
    password: drive.password,
    flavourOverride: config.storage.flavour,
    timeoutMs: Math.min(config.storage.timeoutMs, 15_000),
  };
  const driveDefs = shared(
    [DRIVE_CHECK_IDS.reachable, DRIVE_CHECK_IDS.credentials, DRIVE_CHECK_IDS.flavour, DRIVE_CHECK_IDS.root],
    ['Drive reachable', 'Drive credentials', 'Drive kind and version', 'Drive WebDAV root'],
    driveInput.timeoutMs + 1000,
    (signal) => checkDrive(driveInput, { signal }),
  );
  const encryptionDefs = shared(
    [ENCRYPTION_CHECK_IDS.settings, ENCRYPTION_CHECK_IDS.probe],
    ['Drive encryption settings', 'Drive encryption (probe download)'],
    driveInput.timeoutMs + 1000,
    (signal) => checkStorageEncryption({ ...driveInput, adminUsername: config.storage.adminUsername, adminPassword: config.storage.adminPassword }, { signal }),
  );
  const all = [...docs, reaches, ...driveDefs, ...encryptionDefs];
  return options.only ? all.filter((d) => options.only?.includes(d.id)) : all;
}

/** The secrets a check run must never show (runChecks scrubs them from every result). */
export function configuredSecrets(config: Config, drive: DriveAccess): string[] {
  return [config.docs.jwtSecret, config.storage.password, config.storage.adminPassword, config.tokens.secret, drive.password, config.embedded.password].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
}
