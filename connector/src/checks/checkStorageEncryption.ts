/**
 * Server-side encryption on the drive, told apart: off / on with master key / on with per-user keys / on but the
 * encryption module missing.
 *
 * Two results:
 * - `drive_encryption` — the settings, read over OCS with the drive's ADMIN credentials (Nextcloud: provisioning API
 *   app config `core/encryption_enabled`, `core/default_encryption_module`, `encryption/useMasterKey`,
 *   `encryption/enabled` plus the enabled-apps list; ownCloud: the enabled-apps list only). Skipped, saying what is
 *   needed, without admin credentials or when they are not an administrator's (OCS 403).
 * - `drive_encryption_probe` — one real file downloaded with the drive credentials, no cookies kept (how the bridge
 *   reads files), its error parsed: catches the missing module on its own (Nextcloud 503 / ownCloud 403 "Encryption
 *   not ready: …"), which PROPFIND and status.php never show, and Nextcloud 32's per-user-key 500.
 *
 * Never puts a password in a result.
 */
import type { StorageFlavour } from '../config/config.js';
import { measureCheck, type CheckOutcome, type CheckResult } from './CheckResult.js';
import { credentialsFix, credentialsFixMessage } from './checkDrive.js';
import { runEncryptionProbe, type DownloadVerdict, type ProbeFinding } from './drive/encryptionProbe.js';
import {
  encryptionAppEnabled,
  interpretNextcloudEncryption,
  readNextcloudSettings,
  readOwncloudSettings,
  type NextcloudEncryptionState,
  type SettingsRead,
} from './drive/encryptionSettings.js';
import { DRIVE_SETTING, describeNetworkError, redactUrl } from './drive/http.js';
import { DriveSession, type DriveCheckInput, type DriveCheckOptions } from './drive/session.js';
import { msg, type CheckMessage } from './checkMessages.js';

export interface StorageEncryptionInput extends DriveCheckInput {
  /** A drive administrator (STORAGE_ADMIN_USER), used only for this diagnostic. */
  adminUsername?: string | null;
  adminPassword?: string | null;
  /** File to download as the probe, relative to the drive root; default: the first small file found. */
  probePath?: string | null;
}

export const ENCRYPTION_CHECK_IDS = {
  settings: 'drive_encryption',
  probe: 'drive_encryption_probe',
} as const;

const S = DRIVE_SETTING;

/** The translatable form of {@link moduleMissingFix}. */
function moduleMissingFixMessage(f: StorageFlavour): CheckMessage {
  const owncloud = f === 'owncloud';
  return msg(owncloud ? 'enc_module_missing_fix_owncloud' : 'enc_module_missing_fix_nextcloud', { occ: OCC });
}

const OCC = 'sudo -u www-data php occ';

function product(f: StorageFlavour): string {
  return f === 'nextcloud' ? 'Nextcloud' : f === 'owncloud' ? 'ownCloud' : 'the drive';
}

/** The fix for the missing module (seed 002: "enable the Default encryption module again"; d-occ-4: that recovers). */
function moduleMissingFix(f: StorageFlavour): string {
  const ui = f === 'owncloud' ? 'Settings → Admin → Apps → show disabled apps → "Default encryption module" → Enable' : 'Apps → Disabled apps → "Default encryption module" → Enable';
  return (
    `Enable the "Default encryption module" app again: \`${OCC} app:enable encryption\` (or in ${product(f)}: ${ui}). ` +
    `Downloads work again at once. Do not switch server-side encryption off instead: the files already encrypted can only be read with the module.`
  );
}

const PER_USER_KEYS_DETAIL =
  'With per-user keys, Nextcloud 32 answers a stateless Basic-auth download of an encrypted file (login or app password, ' +
  'either DAV endpoint) with HTTP 500, the file\'s own headers and an XML error body cut to the file\'s length; the server log says ' +
  '"Cannot decrypt this file, probably this is a shared file". Only a client that keeps Nextcloud\'s session cookies gets the file ' +
  '(from its third request on). The bridge reads files statelessly, as DocumentServer would, so documents encrypted with a user\'s ' +
  'key cannot be opened; files stored before encryption was switched on still open. Master-key mode does not have this problem.';

const PER_USER_KEYS_FIX =
  `Use master-key mode. Nextcloud has no in-place switch while encrypted data exists (\`occ encryption:enable-master-key\` is for ` +
  `installations without encrypted files): decrypt all files first (\`${OCC} encryption:decrypt-all\`), then \`${OCC} encryption:enable-master-key\`, ` +
  `\`${OCC} encryption:enable\` and, to encrypt the existing files again, \`${OCC} encryption:encrypt-all\`. Read Nextcloud's ` +
  `server-side encryption documentation and take a backup first.`;

function verdictLine(path: string, v: DownloadVerdict): string {
  const msg = 'message' in v && v.message ? ` "${v.message}"` : '';
  const exc = 'exception' in v && v.exception ? ` ${v.exception}` : '';
  switch (v.kind) {
    case 'ok':
      return `GET ${path} → HTTP ${v.status}, ${v.bytes} bytes read`;
    case 'incomplete':
      return `GET ${path} → HTTP ${v.status}, but the body stopped after ${v.bytes}${v.contentLength !== null ? ` of ${v.contentLength}` : ''} bytes`;
    case 'per_user_keys':
      return `GET ${path} → HTTP 500 with the file's headers (Content-Length ${v.contentLength ?? '?'}) and an XML error body of ${v.bodyBytes} bytes${exc}${msg}`;
    default:
      return `GET ${path} → HTTP ${v.status}${exc}${msg}`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// the probe's own result

function probeOutcome(finding: ProbeFinding | null, flavour: StorageFlavour, session: DriveSession, probePath: string | null): CheckOutcome {
  const id = ENCRYPTION_CHECK_IDS.probe;
  if (finding === null) return { id, status: 'skipped', summary: `Not run: ${S.url} is not a valid URL.`, messages: { summary: msg('enc_probe_bad_url', { setting: S.url }) } };
  switch (finding.kind) {
    case 'network': {
      const d = describeNetworkError(finding.error, finding.stage === 'list' ? 'list' : 'download', session.input.davUrl, finding.path ?? '');
      return {
        id,
        status: finding.stage === 'list' ? 'skipped' : 'warn',
        summary: finding.stage === 'list' ? `Not run: the drive cannot be reached (${d.summary})` : d.summary,
        detail: d.detail,
        fix: d.fix,
        data: { transport: finding.error.kind, ...(finding.path ? { path: finding.path } : {}) },
        // Not run: the page shows the translated cause as the detail (the English detail is Node's error).
        messages: finding.stage === 'list' ? { summary: msg('enc_probe_unreachable'), detail: d.messages.summary, fix: d.messages.fix } : d.messages,
      };
    }
    case 'unauthorized':
      return {
        id,
        status: 'skipped',
        summary: session.credentials ? 'Not run: the drive rejected the drive credentials (see the credentials check).' : `Not run: the drive requires sign-in and no drive account is configured (${S.user}).`,
        data: { stage: finding.stage },
        messages: { summary: session.credentials ? msg('enc_probe_credentials_rejected') : msg('enc_probe_no_account', { setting: S.user }) },
      };
    case 'list_failed':
      return {
        id,
        status: 'skipped',
        summary: `Not run: listing the drive root for a probe file failed (${finding.text}; see the WebDAV root check).`,
        data: { httpStatus: finding.status },
        messages: { summary: msg('enc_probe_list_failed', { answer: finding.text }) },
      };
    case 'no_file':
      return {
        id,
        status: 'skipped',
        summary: `Not run: no file of at most 1 MiB in ${finding.searched.join(', ')} to download as a probe.`,
        fix: `Put a small file (any document) into the drive account's root folder, or name one as the probe file.`,
        data: { searched: finding.searched },
        messages: { summary: msg('enc_probe_no_file', { folders: finding.searched.join(', ') }), fix: msg('enc_probe_no_file_fix') },
      };
    case 'downloaded':
      break;
  }
  const { path, verdict: v } = finding;
  const data: Record<string, unknown> = { path, url: redactUrl(finding.url), verdict: v.kind, httpStatus: v.status };
  if ('message' in v && v.message) data.message = v.message;
  if ('exception' in v && v.exception) data.exception = v.exception;
  const line = verdictLine(path, v);
  switch (v.kind) {
    case 'ok':
      return { id, status: 'ok', summary: `Downloaded the probe file ${path} through WebDAV: files can be read.`, detail: `${line}.`, data, messages: { summary: msg('enc_probe_ok', { path }) } };
    case 'module_missing':
      return {
        id,
        status: 'fail',
        summary:
          `Downloading ${path} fails with HTTP ${v.status} "${v.message ?? 'Encryption not ready'}": server-side encryption is on but the ` +
          `encryption module is not loaded, so no document can be opened or saved${v.status === 403 ? ' (ownCloud answers 403 here, Nextcloud 503)' : ''}.`,
        detail: `${line}. PROPFIND and status.php still look healthy in this state, so only a download shows it.`,
        fix: moduleMissingFix(flavour),
        data,
        messages: {
          summary: msg('enc_probe_module_missing', { path, status: v.status, message: v.message ?? 'Encryption not ready' }),
          fix: moduleMissingFixMessage(flavour),
        },
      };
    case 'per_user_keys':
      return {
        id,
        status: 'warn',
        summary:
          `Downloading ${path} fails with HTTP 500 and a cut-off error body — the signature of ${product(flavour)}'s per-user-key encryption: ` +
          `documents encrypted with a user's key cannot be opened by DocumentServer.`,
        detail: `${line}. ${PER_USER_KEYS_DETAIL}`,
        fix: PER_USER_KEYS_FIX,
        data: { ...data, contentLength: v.contentLength, bodyBytes: v.bodyBytes },
        messages: {
          summary: msg('enc_probe_per_user', { path, product: product(flavour) }),
          detail: msg('enc_per_user_detail', { evidence: `${line}.` }),
          fix: msg('enc_per_user_fix', { occ: OCC }),
        },
      };
    case 'incomplete':
      return {
        id,
        status: 'warn',
        summary: `Downloading the probe file ${path} stopped after ${v.bytes}${v.contentLength !== null ? ` of ${v.contentLength}` : ''} bytes: the drive did not send the rest within ${session.input.timeoutMs} ms.`,
        detail: `${line}. Not an encryption problem, but DocumentServer would get the same broken download.`,
        fix: `Look at the drive's and its proxy's logs for aborted downloads; if the drive is only slow, raise ${S.timeout}.`,
        data,
        messages: {
          summary: msg(v.contentLength !== null ? 'enc_probe_incomplete_of' : 'enc_probe_incomplete', { path, bytes: v.bytes, total: v.contentLength ?? '', ms: session.input.timeoutMs }),
          detail: msg('enc_probe_incomplete_detail', { evidence: line }),
          fix: msg('enc_probe_incomplete_fix', { setting: S.timeout }),
        },
      };
    case 'not_found':
      return {
        id,
        status: 'warn',
        summary: `The probe file ${path} does not exist on the drive (HTTP 404).`,
        fix: probePath ? `Name an existing file as the probe file, or leave it empty to use the first small file found.` : 'Check again; the file was removed while the check ran.',
        data,
        messages: { summary: msg('enc_probe_not_found', { path }), fix: msg(probePath ? 'enc_probe_not_found_fix_named' : 'enc_probe_not_found_fix_removed') },
      };
    default: {
      const serverMessage = 'message' in v && v.message ? v.message : '';
      return {
        id,
        status: 'warn',
        summary: `Downloading the probe file ${path} failed: HTTP ${v.status}${'message' in v && v.message ? ` "${v.message}"` : ''}.`,
        detail: `${line}.`,
        fix: `Look at ${product(flavour)}'s log for this request; the bridge will fail the same way when DocumentServer opens such a file.`,
        data,
        messages: {
          summary: msg(serverMessage ? 'enc_probe_http_error_message' : 'enc_probe_http_error', { path, status: v.status, message: serverMessage }),
          fix: msg('enc_probe_http_error_fix', { product: product(flavour) }),
        },
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// the settings result

function probeNote(finding: ProbeFinding | null): string {
  if (finding?.kind !== 'downloaded') return '';
  return ` Probe: ${verdictLine(finding.path, finding.verdict)}.`;
}

function unavailableOutcome(read: Extract<SettingsRead, { kind: 'unavailable' }>, flavour: StorageFlavour, admin: string, session: DriveSession): CheckOutcome {
  const id = ENCRYPTION_CHECK_IDS.settings;
  const o = read.outcome;
  const p = product(flavour);
  const probeRef = `The download probe (${ENCRYPTION_CHECK_IDS.probe}) still ran with the drive account.`;
  switch (o.kind) {
    case 'forbidden':
      return {
        id,
        status: 'skipped',
        summary: `Encryption settings not read: "${admin}" is not an administrator (${p} answered 403${o.message ? ` "${o.message}"` : ''}).`,
        detail: `GET ${read.what} → HTTP ${o.httpStatus}. ${probeRef}`,
        fix: `Set ${S.adminUser} and ${S.adminPassword} to an account of ${p}'s admin group (an app password of it works); they are used only for diagnostics.`,
        data: { reason: 'not_admin', httpStatus: o.httpStatus },
        messages: {
          summary: msg(o.message ? 'enc_not_admin_message' : 'enc_not_admin', { user: admin, product: p, message: o.message ?? '' }),
          detail: msg('enc_settings_request_detail', { request: read.what, status: o.httpStatus }),
          fix: msg('enc_admin_fix', { userSetting: S.adminUser, passwordSetting: S.adminPassword, product: p }),
        },
      };
    case 'unauthorized':
      return {
        id,
        status: 'warn',
        summary: `Encryption settings not read: ${p} rejected the admin credentials of "${admin}" (HTTP 401).`,
        detail: `GET ${read.what} → HTTP ${o.httpStatus}. ${probeRef}`,
        fix: credentialsFix(flavour, admin).replaceAll(S.password, S.adminPassword).replaceAll(S.user, S.adminUser),
        data: { reason: 'admin_credentials_rejected', httpStatus: o.httpStatus },
        messages: {
          summary: msg('enc_admin_rejected', { user: admin, product: p }),
          detail: msg('enc_settings_request_detail', { request: read.what, status: o.httpStatus }),
          fix: credentialsFixMessage(flavour, admin, { user: S.adminUser, password: S.adminPassword }),
        },
      };
    case 'csrf':
      return {
        id,
        status: 'warn',
        summary: `Encryption settings not read: ${p} refused the OCS request (HTTP 412 "CSRF check failed") although the bridge sends OCS-APIRequest: true.`,
        detail: `GET ${read.what} → HTTP 412. ${probeRef}`,
        fix: 'A reverse proxy in front of the drive strips the OCS-APIRequest request header: let it pass.',
        data: { reason: 'csrf', httpStatus: o.httpStatus },
        messages: {
          summary: msg('enc_csrf', { product: p }),
          detail: msg('enc_settings_request_detail', { request: read.what, status: 412 }),
          fix: msg('enc_csrf_fix'),
        },
      };
    case 'not_found': {
      const provisioningApi = read.what.includes('provisioning_api');
      return {
        id,
        status: 'skipped',
        summary: `Encryption settings not read: ${p} has no ${read.what.includes('provisioning_api') ? 'provisioning API (the provisioning_api app is disabled?)' : 'apps list'} (HTTP ${o.httpStatus}${o.message ? ` "${o.message.trim()}"` : ''}).`,
        detail: probeRef,
        fix: flavour === 'nextcloud' ? `Enable the provisioning_api app (\`${OCC} app:enable provisioning_api\`) to let the check read the settings.` : undefined,
        data: { reason: 'no_endpoint', httpStatus: o.httpStatus },
        messages: {
          summary: msg(provisioningApi ? 'enc_no_provisioning_api' : 'enc_no_apps_list', {
            product: p,
            answer: `HTTP ${o.httpStatus}${o.message ? ` "${o.message.trim()}"` : ''}`,
          }),
          detail: msg('enc_probe_still_ran', { probeId: ENCRYPTION_CHECK_IDS.probe }),
          ...(flavour === 'nextcloud' ? { fix: msg('enc_no_provisioning_api_fix', { occ: OCC }) } : {}),
        },
      };
    }
    case 'network': {
      const d = describeNetworkError(o.error, 'settings', session.input.davUrl);
      return { id, status: 'skipped', summary: d.summary, detail: d.detail, fix: d.fix, data: { reason: 'network', transport: o.error.kind }, messages: d.messages };
    }
    case 'error':
      return {
        id,
        status: 'warn',
        summary: `Encryption settings not read: ${p} answered HTTP ${o.httpStatus}${o.message ? ` "${o.message}"` : ''} to ${read.what}.`,
        detail: probeRef,
        fix: `Look at ${p}'s log for this request (Administration settings → Logging).`,
        data: { reason: 'error', httpStatus: o.httpStatus },
        messages: {
          summary: msg('enc_settings_http_error', { product: p, answer: `HTTP ${o.httpStatus}${o.message ? ` "${o.message}"` : ''}`, request: read.what }),
          detail: msg('enc_probe_still_ran', { probeId: ENCRYPTION_CHECK_IDS.probe }),
          fix: msg('enc_settings_http_error_fix', { product: p }),
        },
      };
  }
}

const STATE_STATUS: Record<NextcloudEncryptionState, CheckOutcome['status']> = {
  off: 'ok',
  off_app_enabled: 'ok',
  master_key: 'ok',
  per_user_keys: 'warn',
  module_missing: 'fail',
  no_default_module: 'fail',
};

function nextcloudOutcome(values: Extract<SettingsRead, { kind: 'nextcloud' }>['values'], finding: ProbeFinding | null): CheckOutcome {
  const id = ENCRYPTION_CHECK_IDS.settings;
  const state = interpretNextcloudEncryption(values);
  const app = encryptionAppEnabled(values);
  const shown = (k: keyof typeof values): string => {
    const v = values[k];
    return v === null ? '(not readable)' : Array.isArray(v) ? v.join(',') : `"${v}"`;
  };
  const evidence =
    `core/encryption_enabled = ${shown('core/encryption_enabled')}, core/default_encryption_module = ${shown('core/default_encryption_module')}, ` +
    `encryption/useMasterKey = ${shown('encryption/useMasterKey')}, encryption/enabled = ${shown('encryption/enabled')}, ` +
    `"encryption" ${values.enabledApps === null ? 'apps list not readable' : app ? 'in the enabled apps' : 'not in the enabled apps'}.`;
  const verdict = finding?.kind === 'downloaded' ? finding.verdict : null;
  const data: Record<string, unknown> = {
    state,
    values: {
      'core/encryption_enabled': values['core/encryption_enabled'],
      'core/default_encryption_module': values['core/default_encryption_module'],
      'encryption/useMasterKey': values['encryption/useMasterKey'],
      'encryption/enabled': values['encryption/enabled'],
    },
    encryptionAppEnabled: app,
    ...(verdict ? { probe: verdict.kind } : {}),
  };
  const detail = `${evidence}${probeNote(finding)}`;
  // A download that says "Encryption not ready" outranks any reading of the settings.
  if (verdict?.kind === 'module_missing' && state !== 'module_missing' && state !== 'no_default_module') {
    return {
      id,
      status: 'fail',
      summary: `The settings read as "${state}", but downloads fail with "Encryption not ready": the encryption module is not loaded.`,
      detail,
      fix: moduleMissingFix('nextcloud'),
      data,
      messages: { summary: msg('enc_settings_contradict', { state }), fix: moduleMissingFixMessage('nextcloud') },
    };
  }
  const perUserConfirmed = verdict?.kind === 'per_user_keys';
  const confirmation = verdict?.kind === 'module_missing' ? 'probe' : finding === null || finding.kind !== 'downloaded' ? 'unconfirmed' : '';
  const confirmed =
    verdict?.kind === 'module_missing' ? ' Confirmed by the probe download.' : finding === null || finding.kind !== 'downloaded' ? ' (Not confirmed by a download: see the probe result.)' : '';
  switch (state) {
    case 'off':
      return { id, status: 'ok', summary: 'Server-side encryption is off.', detail, data, messages: { summary: msg('enc_off') } };
    case 'off_app_enabled':
      return {
        id,
        status: 'ok',
        summary: 'Server-side encryption is off (the "Default encryption module" app is enabled, but encryption was never switched on).',
        detail: `${detail} If encryption is switched on later, keep the default master-key mode: per-user keys stop DocumentServer from opening documents.`,
        data,
        messages: { summary: msg('enc_off_app_enabled') },
      };
    case 'master_key':
      return {
        id,
        status: STATE_STATUS[state],
        summary: 'Server-side encryption is on with a master key: DocumentServer can open documents through the bridge.',
        detail: `${detail} In master-key mode stateless Basic-auth downloads work. Keep the "Default encryption module" app enabled: disabling it makes every download fail.`,
        data,
        messages: { summary: msg('enc_master_key') },
      };
    case 'per_user_keys':
      return {
        id,
        status: STATE_STATUS[state],
        summary:
          'Server-side encryption is on with per-user keys: documents encrypted with a user\'s key cannot be opened by DocumentServer — on Nextcloud 32 even a Basic-auth ' +
          'download of such a file fails with HTTP 500 unless the client keeps Nextcloud\'s session cookies.' +
          (verdict?.kind === 'per_user_keys' ? ' Confirmed by the probe download.' : ''),
        detail: `${detail} ${PER_USER_KEYS_DETAIL}`,
        fix: PER_USER_KEYS_FIX,
        data,
        messages: {
          summary: msg(perUserConfirmed ? 'enc_per_user_confirmed' : 'enc_per_user'),
          detail: msg('enc_per_user_detail', { evidence: detail }),
          fix: msg('enc_per_user_fix', { occ: OCC }),
        },
      };
    case 'module_missing':
      return {
        id,
        status: STATE_STATUS[state],
        summary:
          'Server-side encryption is on (core/encryption_enabled = yes) but the "Default encryption module" app is disabled: the module ' +
          `${values['core/default_encryption_module'] || 'OC_DEFAULT_MODULE'} is missing, every download fails with 503 "Encryption not ready" and saves fail.${confirmed}`,
        detail: `${detail} PROPFIND, HEAD and status.php still look healthy in this state.`,
        fix: moduleMissingFix('nextcloud'),
        data,
        messages: {
          summary: msg('enc_module_missing', { module: values['core/default_encryption_module'] || 'OC_DEFAULT_MODULE', confirmed: confirmation }),
          fix: moduleMissingFixMessage('nextcloud'),
        },
      };
    case 'no_default_module':
      return {
        id,
        status: STATE_STATUS[state],
        summary: `Server-side encryption is on but no default encryption module is set: downloads fail with "No default encryption module defined".${confirmed}`,
        detail,
        fix: `Set the module: \`${OCC} encryption:set-default-module OC_DEFAULT_MODULE\` (with the "Default encryption module" app enabled).`,
        data,
        messages: { summary: msg('enc_no_default_module', { confirmed: confirmation }), fix: msg('enc_no_default_module_fix', { occ: OCC }) },
      };
  }
}

function owncloudOutcome(enabledApps: string[], finding: ProbeFinding | null): CheckOutcome {
  const id = ENCRYPTION_CHECK_IDS.settings;
  const app = enabledApps.includes('encryption');
  const verdict = finding?.kind === 'downloaded' ? finding.verdict : null;
  const detail = `"encryption" ${app ? 'is' : 'is not'} in ownCloud's enabled apps (ownCloud has no API to read core/encryption_enabled or the key mode).${probeNote(finding)}`;
  const data: Record<string, unknown> = { encryptionAppEnabled: app, ...(verdict ? { probe: verdict.kind } : {}) };
  if (verdict?.kind === 'module_missing') {
    return {
      id,
      status: 'fail',
      summary: app
        ? 'The encryption app is enabled, but downloads fail with "Encryption not ready": the encryption module is not loaded.'
        : 'Server-side encryption is on but the "Default encryption module" app is disabled: downloads fail with "Encryption not ready: Module with id: OC_DEFAULT_MODULE does not exist." (ownCloud answers 403).',
      detail,
      fix: moduleMissingFix('owncloud'),
      data: { ...data, state: 'module_missing' },
      messages: { summary: msg(app ? 'enc_oc_module_not_loaded' : 'enc_oc_module_missing'), fix: moduleMissingFixMessage('owncloud') },
    };
  }
  const probeWorked = verdict?.kind === 'ok';
  if (!app) {
    return { id, status: 'ok', summary: 'Server-side encryption is off (the encryption app is not enabled).', detail, data: { ...data, state: 'off' }, messages: { summary: msg('enc_oc_off') } };
  }
  return {
    id,
    status: 'warn',
    summary:
      'The encryption app is enabled on ownCloud; ownCloud does not publish whether it uses a master key or per-user keys, and with per-user keys DocumentServer cannot open the users\' documents.' +
      (verdict?.kind === 'ok' ? ' The probe download worked.' : ''),
    detail,
    fix: `Check on the server: \`${OCC} encryption:status\` and \`${OCC} config:app:get encryption useMasterKey\` (1 = master key). ownCloud's ONLYOFFICE support needs master-key mode (\`${OCC} encryption:select-encryption-type masterkey\`, only before files are encrypted).`,
    data: { ...data, state: 'on_unknown_mode' },
    messages: { summary: msg(probeWorked ? 'enc_oc_on_probe_ok' : 'enc_oc_on'), fix: msg('enc_oc_on_fix', { occ: OCC }) },
  };
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Server-side encryption status of the drive: `[drive_encryption, drive_encryption_probe]`.
 * The settings and the probe run in parallel; both finish within `input.timeoutMs`.
 */
export async function checkStorageEncryption(input: StorageEncryptionInput, options: DriveCheckOptions = {}): Promise<CheckResult[]> {
  const session = new DriveSession(input, options);
  const admin =
    input.adminUsername !== undefined && input.adminUsername !== null && input.adminUsername !== ''
      ? { username: input.adminUsername, password: input.adminPassword ?? '' }
      : null;
  const probePath = input.probePath ?? null;

  const flavourP = session.flavour();
  const probeP: Promise<ProbeFinding | null> = session.info ? runEncryptionProbe(session, probePath) : Promise.resolve(null);
  const settingsP: Promise<SettingsRead | 'no_admin' | 'generic' | 'bad_url'> = (async () => {
    if (!session.info) return 'bad_url' as const;
    const flavour = await flavourP;
    if (flavour === 'generic') return 'generic' as const;
    if (!admin) return 'no_admin' as const;
    const base = session.info.base;
    return flavour === 'nextcloud'
      ? readNextcloudSettings(base, admin, session.deadline, input.tls, options.signal)
      : readOwncloudSettings(base, admin, session.deadline, input.tls, options.signal);
  })();

  const probeResult = measureCheck(ENCRYPTION_CHECK_IDS.probe, async () => probeOutcome(await probeP, await flavourP, session, probePath));
  const settingsResult = measureCheck(ENCRYPTION_CHECK_IDS.settings, async (): Promise<CheckOutcome> => {
    const id = ENCRYPTION_CHECK_IDS.settings;
    const [read, finding, flavour] = await Promise.all([settingsP, probeP, flavourP]);
    if (read === 'bad_url') return { id, status: 'skipped', summary: `Not checked: ${S.url} is not a valid URL.`, messages: { summary: msg('drive_not_checked_bad_url', { setting: S.url }) } };
    if (read === 'generic') {
      const st = await session.status();
      if (st.kind === 'network' && finding?.kind === 'network' && finding.stage === 'list') {
        return {
          id,
          status: 'skipped',
          summary: 'Not checked: the drive cannot be reached (see the reachability check).',
          data: { transport: st.error.kind },
          messages: { summary: msg('drive_not_checked_unreachable') },
        };
      }
      if (finding?.kind === 'downloaded' && finding.verdict.kind === 'module_missing') {
        return {
          id,
          status: 'fail',
          summary: `Downloads fail with "${finding.verdict.message ?? 'Encryption not ready'}": server-side encryption is on but the encryption module is not loaded.`,
          detail: `The drive does not identify itself as Nextcloud/ownCloud (no status.php), so its settings were not read.${probeNote(finding)}`,
          fix: moduleMissingFix('nextcloud'),
          data: { state: 'module_missing' },
          messages: {
            summary: msg('enc_generic_module_missing', { message: finding.verdict.message ?? 'Encryption not ready' }),
            detail: msg('enc_generic_module_missing_detail', { evidence: verdictLine(finding.path, finding.verdict) }),
            fix: moduleMissingFixMessage('nextcloud'),
          },
        };
      }
      return {
        id,
        status: 'skipped',
        summary: 'Not applicable: server-side encryption is a Nextcloud/ownCloud feature and this drive is generic WebDAV.',
        data: { flavour },
        messages: { summary: msg('enc_generic') },
      };
    }
    if (read === 'no_admin') {
      const p = product(flavour);
      const probeSays =
        finding?.kind === 'downloaded'
          ? finding.verdict.kind === 'module_missing'
            ? ' The probe download alone shows the encryption module is missing (see the probe result).'
            : finding.verdict.kind === 'per_user_keys'
              ? ' The probe download shows the per-user-key failure (see the probe result).'
              : ''
          : '';
      const isNextcloud = flavour === 'nextcloud';
      const probeSaysKey =
        finding?.kind === 'downloaded' ? (finding.verdict.kind === 'module_missing' ? 'module_missing' : finding.verdict.kind === 'per_user_keys' ? 'per_user_keys' : '') : '';
      return {
        id,
        status: 'skipped',
        summary: `Encryption settings not read: that needs the credentials of a ${p} administrator (${S.adminUser} and ${S.adminPassword} are not set). The download probe ran without them.${probeSays}`,
        fix: `Set ${S.adminUser} and ${S.adminPassword} to an account of ${p}'s admin group (an app password of it works); they are used only for diagnostics, to read ${
          flavour === 'nextcloud' ? 'core/encryption_enabled, core/default_encryption_module, encryption/useMasterKey, encryption/enabled and the enabled apps' : 'the enabled apps'
        } over OCS.`,
        data: { reason: 'no_admin_credentials', ...(finding?.kind === 'downloaded' ? { probe: finding.verdict.kind } : {}) },
        messages: {
          summary: msg('enc_no_admin', { product: p, userSetting: S.adminUser, passwordSetting: S.adminPassword, probeSays: probeSaysKey }),
          fix: msg(isNextcloud ? 'enc_no_admin_fix_nextcloud' : 'enc_no_admin_fix_owncloud', { product: p, userSetting: S.adminUser, passwordSetting: S.adminPassword }),
        },
      };
    }
    if (read.kind === 'unavailable') return unavailableOutcome(read, flavour, admin?.username ?? '', session);
    if (read.kind === 'nextcloud') return nextcloudOutcome(read.values, finding);
    return owncloudOutcome(read.enabledApps, finding);
  });
  return Promise.all([settingsResult, probeResult]);
}

export { classifyDownload } from './drive/encryptionProbe.js';
export { interpretNextcloudEncryption } from './drive/encryptionSettings.js';
export type { DownloadVerdict } from './drive/encryptionProbe.js';
export type { NextcloudEncryptionState, NextcloudEncryptionValues } from './drive/encryptionSettings.js';

