/**
 * Reads Nextcloud's / ownCloud's `status.php` (no sign-in needed). Nextcloud answers JSON booleans
 * (`"maintenance":false`, see the `a-status-php` capture); ownCloud 10 answers the same keys as strings
 * (`"maintenance":"false"`), so both forms are read.
 */
import type { StorageFlavour } from '../../config/config.js';
import { DriveNetworkError, probeRequest, type Deadline, type DriveTlsOptions } from './http.js';

export interface StatusPhp {
  flavour: Exclude<StorageFlavour, 'generic'>;
  installed: boolean;
  maintenance: boolean;
  needsDbUpgrade: boolean;
  /** e.g. `32.0.1.2` */
  version: string | null;
  /** e.g. `32.0.1` */
  versionString: string | null;
  productName: string;
  edition: string | null;
}

export type StatusOutcome =
  | { kind: 'status'; url: string; status: StatusPhp }
  /** An HTTP answer that is not a status.php document (404, a web page, a redirect …): not Nextcloud/ownCloud. */
  | { kind: 'absent'; url: string; httpStatus: number; contentType: string | null }
  | { kind: 'network'; url: string; error: DriveNetworkError };

function bool(v: unknown): boolean | null {
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  return null;
}

/** Parses a status.php body; null when it is not one. */
export function parseStatusPhp(body: string): StatusPhp | null {
  let j: unknown;
  try {
    j = JSON.parse(body);
  } catch {
    return null;
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) return null;
  const o = j as Record<string, unknown>;
  const installed = bool(o.installed);
  if (installed === null) return null;
  const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
  const productName = str(o.productname) ?? str(o.product) ?? 'Nextcloud';
  const flavour = /owncloud/i.test(`${productName} ${str(o.product) ?? ''}`) ? 'owncloud' : 'nextcloud';
  return {
    flavour,
    installed,
    maintenance: bool(o.maintenance) ?? false,
    needsDbUpgrade: bool(o.needsDbUpgrade) ?? false,
    version: str(o.version),
    versionString: str(o.versionstring) ?? str(o.version),
    productName,
    edition: str(o.edition),
  };
}

/** GETs `<base>/status.php` (no credentials, no redirects). */
export async function fetchStatusPhp(base: string, deadline: Deadline, tls?: DriveTlsOptions, signal?: AbortSignal): Promise<StatusOutcome> {
  const url = `${base}/status.php`;
  try {
    const res = await probeRequest(url, { deadline, maxBodyBytes: 64 * 1024, headers: { Accept: 'application/json' }, ...(tls ? { tls } : {}), ...(signal ? { signal } : {}) });
    const ct = typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : null;
    const status = res.status === 200 ? parseStatusPhp(res.body.toString('utf8')) : null;
    if (status) return { kind: 'status', url, status };
    return { kind: 'absent', url, httpStatus: res.status, contentType: ct };
  } catch (e) {
    if (e instanceof DriveNetworkError) return { kind: 'network', url, error: e };
    throw e;
  }
}
