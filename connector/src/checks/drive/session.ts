/**
 * The requests the drive checks share, each made once per run and all bound to one deadline: PROPFIND Depth 0 on
 * the configured URL (with the drive credentials), `status.php`, and OCS `/cloud/user` (who the credentials belong
 * to). checkDrive's four checks and the encryption check read from the same session, so a run asks the drive each
 * question once and an unreachable drive costs one timeout, not one per check.
 */
import type { StorageFlavour } from '../../config/config.js';
import { analyseDavUrl, type DavUrlInfo } from './davUrl.js';
import { Deadline, DriveNetworkError, probeRequest, type Credentials, type DriveTlsOptions, type ProbeResponse } from './http.js';
import { ocsGet, type OcsOutcome } from './ocs.js';
import { fetchStatusPhp, type StatusOutcome } from './statusPhp.js';

/** What every drive check is given. Passwords are only ever sent in an Authorization header. */
export interface DriveCheckInput {
  /** The drive's WebDAV URL (STORAGE_URL). */
  davUrl: string;
  username: string | null;
  password: string | null;
  /** STORAGE_FLAVOUR; default auto (status.php decides). */
  flavourOverride?: 'auto' | StorageFlavour;
  /** The check's time limit in ms: every check of a run finishes within it. */
  timeoutMs: number;
  /** TLS options for an https drive (default: Node's trust store). */
  tls?: DriveTlsOptions;
}

/** Per-call options (same shape as the DocumentServer checks' CheckOptions). */
export interface DriveCheckOptions {
  /** Cancels the check's requests (a run's total time limit); a cancelled check still returns a result. */
  signal?: AbortSignal;
}

export const PROPFIND_DEPTH0_BODY = `<?xml version="1.0" encoding="UTF-8"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">
  <d:prop><d:getetag/><d:getcontentlength/><d:getlastmodified/><d:resourcetype/><oc:fileid/><oc:permissions/><oc:size/></d:prop>
</d:propfind>`;

export type Answer = ProbeResponse | DriveNetworkError;

export class DriveSession {
  readonly deadline: Deadline;
  /** null when the URL cannot be parsed. */
  readonly info: DavUrlInfo | null;
  readonly credentials: Credentials | null;
  private propfindP: Promise<Answer> | null = null;
  private statusP: Promise<StatusOutcome> | null = null;
  private userP: Promise<OcsOutcome | null> | null = null;

  constructor(
    readonly input: DriveCheckInput,
    readonly options: DriveCheckOptions = {},
  ) {
    this.deadline = new Deadline(input.timeoutMs);
    let info: DavUrlInfo | null = null;
    try {
      const u = new URL(input.davUrl);
      if (u.protocol === 'http:' || u.protocol === 'https:') info = analyseDavUrl(input.davUrl);
    } catch {
      info = null;
    }
    this.info = info;
    this.credentials = input.username !== null && input.username !== '' ? { username: input.username, password: input.password ?? '' } : null;
  }

  /** Common request options: deadline, TLS, cancellation. */
  requestOptions(): { deadline: Deadline; tls?: DriveTlsOptions; signal?: AbortSignal } {
    return { deadline: this.deadline, ...(this.input.tls ? { tls: this.input.tls } : {}), ...(this.options.signal ? { signal: this.options.signal } : {}) };
  }

  /** The configured URL as a collection URL (trailing slash), which is how WebDAV clients address a folder. */
  rootUrl(): string {
    return this.input.davUrl.replace(/\/*$/, '/');
  }

  /** PROPFIND Depth 0 on the configured URL with the drive credentials. */
  propfindRoot(): Promise<Answer> {
    this.propfindP ??= probeRequest(this.rootUrl(), {
      ...this.requestOptions(),
      method: 'PROPFIND',
      credentials: this.credentials,
      headers: { Depth: '0', 'Content-Type': 'application/xml; charset=utf-8' },
      body: PROPFIND_DEPTH0_BODY,
      maxBodyBytes: 256 * 1024,
    }).catch((e: unknown) => {
      if (e instanceof DriveNetworkError) return e;
      throw e;
    });
    return this.propfindP;
  }

  /** status.php below the URL's base. */
  status(): Promise<StatusOutcome> {
    if (!this.info) return Promise.resolve({ kind: 'network', url: '', error: new DriveNetworkError('bad_url', null, 'not a valid URL', '') });
    const base = this.info.base;
    this.statusP ??= fetchStatusPhp(base, this.deadline, this.input.tls, this.options.signal);
    return this.statusP;
  }

  /** The flavour the bridge works with: the override, else what status.php says. */
  async flavour(): Promise<StorageFlavour> {
    const o = this.input.flavourOverride;
    if (o !== undefined && o !== 'auto') return o;
    const s = await this.status();
    return s.kind === 'status' ? s.status.flavour : 'generic';
  }

  /** OCS `/cloud/user` with the drive credentials (Nextcloud/ownCloud only; null when not applicable). */
  ocsUser(): Promise<OcsOutcome | null> {
    this.userP ??= (async () => {
      if (!this.info || !this.credentials) return null;
      const flavour = await this.flavour();
      if (flavour === 'generic') return null;
      return ocsGet(this.info.base, '/ocs/v2.php/cloud/user', this.credentials, this.deadline, this.input.tls, this.options.signal);
    })();
    return this.userP;
  }

  /** The user id OCS reports for the credentials (WebDAV paths want the id, not the login name). */
  async userId(): Promise<string | null> {
    const u = await this.ocsUser();
    if (u?.kind === 'ok' && u.data && typeof u.data === 'object' && typeof (u.data as { id?: unknown }).id === 'string') {
      return (u.data as { id: string }).id;
    }
    return null;
  }
}
