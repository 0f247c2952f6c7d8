/**
 * Reading the server-side-encryption settings over OCS with an administrator's credentials, and what they mean.
 *
 * Nextcloud (provisioning API app config, fixtures README "Encryption status via provisioning API"):
 * `core/encryption_enabled` is `""` when never enabled and `"yes"` when on; `core/default_encryption_module` becomes
 * `OC_DEFAULT_MODULE` once the app was enabled; `encryption/useMasterKey` is `""` in the default master-key mode
 * (unset means master key) and `"0"` for per-user keys; `encryption/enabled` (the app's own enabled flag) is
 * `"yes"`/`"no"`. `core/encryption_enabled = "yes"` with the `encryption` app disabled (missing from
 * `/cloud/apps?filter=enabled`, `encryption/enabled = "no"`) is the broken state of the `d-`/`d2-` captures.
 *
 * ownCloud 10 has no app-config read endpoint; only the enabled-apps list can be read.
 */
import type { Credentials, Deadline, DriveTlsOptions } from './http.js';
import { appConfigValue, appList, ocsGet, type OcsOutcome } from './ocs.js';

export const APP_CONFIG_PATH = '/ocs/v2.php/apps/provisioning_api/api/v1/config/apps';
export const ENABLED_APPS_PATH = '/ocs/v1.php/cloud/apps?filter=enabled';

/** The Nextcloud values the verdict reads (null = could not be read). */
export interface NextcloudEncryptionValues {
  'core/encryption_enabled': string | null;
  'core/default_encryption_module': string | null;
  'encryption/useMasterKey': string | null;
  'encryption/enabled': string | null;
  /** Enabled apps (null = list not readable). */
  enabledApps: string[] | null;
}

export type NextcloudEncryptionState =
  /** Encryption never switched on (a-). */
  | 'off'
  /** The app is enabled but encryption is not switched on (b0-). */
  | 'off_app_enabled'
  /** On, master key (c-): stateless downloads work. */
  | 'master_key'
  /** On, per-user keys (b-). */
  | 'per_user_keys'
  /** On, but the encryption app is disabled: the module is missing (d-, d2-). */
  | 'module_missing'
  /** On, app enabled, but no default module set. */
  | 'no_default_module';

/** Whether the `encryption` app is enabled: from the apps list when readable, else from `encryption/enabled`. */
export function encryptionAppEnabled(v: NextcloudEncryptionValues): boolean | null {
  if (v.enabledApps !== null) return v.enabledApps.includes('encryption');
  if (v['encryption/enabled'] === 'yes') return true;
  if (v['encryption/enabled'] === 'no') return false;
  return null;
}

/** What the values mean. Pure. */
export function interpretNextcloudEncryption(v: NextcloudEncryptionValues): NextcloudEncryptionState {
  const app = encryptionAppEnabled(v);
  if (v['core/encryption_enabled'] !== 'yes') return app === true ? 'off_app_enabled' : 'off';
  if (app === false) return 'module_missing';
  if ((v['core/default_encryption_module'] ?? '') === '') return 'no_default_module';
  const mk = v['encryption/useMasterKey'];
  // Nextcloud's Util::isMasterKeyEnabled(): unset ("") means master key; "0" means per-user keys.
  return mk === '0' || mk === 'false' || mk === 'no' ? 'per_user_keys' : 'master_key';
}

export type SettingsRead =
  | { kind: 'nextcloud'; values: NextcloudEncryptionValues }
  | { kind: 'owncloud'; enabledApps: string[] }
  /** The settings could not be read; `outcome` says why (401, 403, 412, 404, network …). */
  | { kind: 'unavailable'; outcome: Exclude<OcsOutcome, { kind: 'ok' }>; what: string };

/** Reads the five Nextcloud values in parallel. */
export async function readNextcloudSettings(base: string, admin: Credentials, deadline: Deadline, tls?: DriveTlsOptions, signal?: AbortSignal): Promise<SettingsRead> {
  const keys = ['core/encryption_enabled', 'core/default_encryption_module', 'encryption/useMasterKey', 'encryption/enabled'] as const;
  const [apps, ...configs] = await Promise.all([
    ocsGet(base, ENABLED_APPS_PATH, admin, deadline, tls, signal),
    ...keys.map((k) => ocsGet(base, `${APP_CONFIG_PATH}/${k}`, admin, deadline, tls, signal)),
  ]);
  const first = configs[0];
  if (!first || !apps) throw new Error('unreachable');
  // The decisive value first; then anything that says the credentials are wrong or not an admin's.
  for (const [o, what] of [
    [first, `${APP_CONFIG_PATH}/core/encryption_enabled`],
    [apps, ENABLED_APPS_PATH],
  ] as const) {
    if (o.kind !== 'ok') return { kind: 'unavailable', outcome: o, what };
  }
  const values: NextcloudEncryptionValues = {
    'core/encryption_enabled': null,
    'core/default_encryption_module': null,
    'encryption/useMasterKey': null,
    'encryption/enabled': null,
    enabledApps: apps.kind === 'ok' ? appList(apps.data) : null,
  };
  keys.forEach((k, i) => {
    const o = configs[i];
    values[k] = o?.kind === 'ok' ? appConfigValue(o.data) : null;
  });
  return { kind: 'nextcloud', values };
}

/** Reads ownCloud's enabled-apps list. */
export async function readOwncloudSettings(base: string, admin: Credentials, deadline: Deadline, tls?: DriveTlsOptions, signal?: AbortSignal): Promise<SettingsRead> {
  const apps = await ocsGet(base, ENABLED_APPS_PATH, admin, deadline, tls, signal);
  if (apps.kind !== 'ok') return { kind: 'unavailable', outcome: apps, what: ENABLED_APPS_PATH };
  return { kind: 'owncloud', enabledApps: appList(apps.data) ?? [] };
}
