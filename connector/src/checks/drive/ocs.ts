/**
 * A minimal OCS client for the diagnostics, following what the captured Nextcloud 32 does (see the fixtures README,
 * "OCS"): the `OCS-APIRequest: true` header is required even with Basic auth (without it: HTTP 412
 * `{"message":"CSRF check failed"}`); `format=json`; v2 puts the OCS status into the HTTP status (non-admin → 403),
 * v1 answers HTTP 200 with `statuscode` 403 (or 100 for OK) in the body; a wrong password is HTTP 401 with statuscode
 * 997.
 */
import { DriveNetworkError, probeRequest, type Credentials, type Deadline, type DriveTlsOptions } from './http.js';

export type OcsOutcome =
  | { kind: 'ok'; data: unknown }
  | { kind: 'unauthorized'; httpStatus: number }
  | { kind: 'forbidden'; httpStatus: number; message: string }
  | { kind: 'csrf'; httpStatus: number }
  /** No such OCS route (the app is missing/disabled, or the server is not Nextcloud): 404 / statuscode 998. */
  | { kind: 'not_found'; httpStatus: number; message: string }
  | { kind: 'error'; httpStatus: number; message: string }
  | { kind: 'network'; error: DriveNetworkError };

interface OcsEnvelope {
  ocs?: { meta?: { status?: unknown; statuscode?: unknown; message?: unknown }; data?: unknown };
  message?: unknown;
}

/**
 * GET `<base><path>?format=json` with `OCS-APIRequest: true`.
 * @param path e.g. `/ocs/v2.php/apps/provisioning_api/api/v1/config/apps/core/encryption_enabled`, may carry a query
 */
export async function ocsGet(base: string, path: string, credentials: Credentials | null, deadline: Deadline, tls?: DriveTlsOptions, signal?: AbortSignal): Promise<OcsOutcome> {
  const url = `${base}${path}${path.includes('?') ? '&' : '?'}format=json`;
  let res;
  try {
    res = await probeRequest(url, {
      deadline,
      credentials,
      headers: { 'OCS-APIRequest': 'true', Accept: 'application/json' },
      maxBodyBytes: 512 * 1024,
      ...(tls ? { tls } : {}),
      ...(signal ? { signal } : {}),
    });
  } catch (e) {
    if (e instanceof DriveNetworkError) return { kind: 'network', error: e };
    throw e;
  }
  let env: OcsEnvelope | null = null;
  try {
    env = JSON.parse(res.body.toString('utf8')) as OcsEnvelope;
  } catch {
    env = null;
  }
  const meta = env?.ocs?.meta;
  const statuscode = typeof meta?.statuscode === 'number' ? meta.statuscode : Number(meta?.statuscode ?? NaN);
  const message = typeof meta?.message === 'string' ? meta.message : typeof env?.message === 'string' ? env.message : '';
  if (res.status === 401 || statuscode === 997) return { kind: 'unauthorized', httpStatus: res.status };
  if (res.status === 412 && /CSRF/i.test(message)) return { kind: 'csrf', httpStatus: res.status };
  if (res.status === 403 || statuscode === 403) return { kind: 'forbidden', httpStatus: res.status, message };
  if (res.status === 404 || statuscode === 998 || statuscode === 404) return { kind: 'not_found', httpStatus: res.status, message };
  if (res.status === 200 && env?.ocs && (statuscode === 100 || statuscode === 200)) return { kind: 'ok', data: env.ocs.data };
  return { kind: 'error', httpStatus: res.status, message: message || `HTTP ${res.status} ${res.reason}`.trim() };
}

/** The `data.data` value of a provisioning-API app-config answer (`""` when unset). */
export function appConfigValue(data: unknown): string | null {
  if (data && typeof data === 'object' && 'data' in data) {
    const v = (data as { data: unknown }).data;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  }
  return null;
}

/** `data.apps` of a `/cloud/apps` answer. */
export function appList(data: unknown): string[] | null {
  if (data && typeof data === 'object' && 'apps' in data) {
    const apps = (data as { apps: unknown }).apps;
    if (Array.isArray(apps)) return apps.filter((a): a is string => typeof a === 'string');
    // Some versions answer an object keyed by index.
    if (apps && typeof apps === 'object') return Object.values(apps).filter((a): a is string => typeof a === 'string');
  }
  return null;
}
