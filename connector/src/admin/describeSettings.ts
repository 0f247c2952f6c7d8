/**
 * The settings as the admin page shows them: every SETTING_KEYS entry with where its value comes from. Secrets are
 * write-only: only whether they are set, never their value.
 */
import { SETTING_KEYS } from '../config/settingsFile.js';
import { isLockedByEnv, type Env } from './candidateConfig.js';

/** One field of the settings form. */
export interface SettingField {
  key: string;
  description: string;
  secret: boolean;
  /** The value in force (environment, else settings file); always null for secrets and for unset keys. */
  value: string | null;
  /** Whether the environment or the settings file gives a value. */
  set: boolean;
  /** `env` wins over `file`; `default` = neither sets it. */
  source: 'env' | 'file' | 'default';
  /** Set by the environment: the page cannot change it. */
  locked: boolean;
}

/**
 * Describes every setting.
 * @param file the settings file's values
 * @param env the bridge's environment
 */
export function describeSettings(file: Readonly<Record<string, string>>, env: Env): SettingField[] {
  return SETTING_KEYS.map(({ key, description, secret }) => {
    const locked = isLockedByEnv(env, key);
    const fromFile = file[key];
    const source: SettingField['source'] = locked ? 'env' : fromFile !== undefined && fromFile.trim() !== '' ? 'file' : 'default';
    const raw = source === 'env' ? (env[key]?.trim() ?? null) : source === 'file' ? (fromFile?.trim() ?? null) : null;
    return { key, description, secret, value: secret ? null : raw || null, set: source !== 'default', source, locked };
  });
}
