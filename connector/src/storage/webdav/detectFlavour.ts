import axios from 'axios';
import type { StorageFlavour } from '../../config/config.js';

/** What status.php said about the drive (Nextcloud and ownCloud serve it; plain WebDAV servers do not). */
export interface DriveStatus {
  flavour: StorageFlavour;
  productName: string | null;
  version: string | null;
  maintenance: boolean | null;
  /** The status.php URL asked. */
  statusUrl: string;
}

/** The status.php URL for a WebDAV URL: beside /remote.php when the URL has it, else at the origin. */
export function statusUrlFor(davUrl: string): string {
  const u = new URL(davUrl);
  const i = u.pathname.indexOf('/remote.php/');
  const prefix = i >= 0 ? u.pathname.slice(0, i) : '';
  return `${u.origin}${prefix}/status.php`;
}

/**
 * Detects Nextcloud / ownCloud / generic WebDAV from status.php. Anything that is not a status.php answer
 * (404, HTML, not JSON, unreachable) means generic.
 * @param davUrl the drive's WebDAV URL
 * @param timeoutMs how long to wait
 */
export async function detectFlavour(davUrl: string, timeoutMs: number): Promise<DriveStatus> {
  const statusUrl = statusUrlFor(davUrl);
  try {
    const res = await axios.get(statusUrl, { timeout: timeoutMs, validateStatus: () => true, responseType: 'text', maxContentLength: 65536, maxRedirects: 0 });
    if (res.status !== 200) return { flavour: 'generic', productName: null, version: null, maintenance: null, statusUrl };
    const body = JSON.parse(String(res.data)) as Record<string, unknown>;
    const product = typeof body.productname === 'string' ? body.productname : null;
    const version = typeof body.versionstring === 'string' ? body.versionstring : typeof body.version === 'string' ? body.version : null;
    const maintenance = typeof body.maintenance === 'boolean' ? body.maintenance : null;
    if (body.installed === undefined) return { flavour: 'generic', productName: product, version, maintenance, statusUrl };
    const flavour: StorageFlavour = /owncloud/i.test(product ?? '') ? 'owncloud' : 'nextcloud';
    return { flavour, productName: product ?? 'Nextcloud', version, maintenance, statusUrl };
  } catch {
    return { flavour: 'generic', productName: null, version: null, maintenance: null, statusUrl };
  }
}
