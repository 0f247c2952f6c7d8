/**
 * The Nextcloud side of Login Flow v2 (shared fixtures `f-loginflow-*`): `POST {server}/index.php/login/v2` starts a
 * flow and answers `{poll:{token,endpoint}, login}`; `POST <endpoint>` with `token=<poll token>` (form-encoded)
 * answers 404 `[]` while the person has not granted access (and for unknown or used tokens alike), and 200
 * `{server, loginName, appPassword}` exactly once. Every answer is checked field by field; anything else is a
 * {@link SignInError} that names what was wrong (never the token or the password).
 */
import axios, { type AxiosResponse } from 'axios';
import { SignInError } from './types.js';

/** User-Agent of our requests: Nextcloud shows it on its consent page and names the app password after it. */
export const LOGIN_FLOW_CLIENT_NAME = 'wopi-bridge';
/** Nextcloud deletes a flow 20 minutes after it started (LoginFlowV2Mapper::lifetime = 1200 s). */
export const LOGIN_FLOW_LIFETIME_MS = 20 * 60 * 1000;
const MAX_ANSWER_BYTES = 64 * 1024;

/** A poll answered 200 but not with usable credentials: the flow is used up at Nextcloud, the person must start again. */
export class FlowConsumedError extends SignInError {
  constructor(message: string) {
    super('drive_unreachable', message);
    this.name = 'FlowConsumedError';
  }
}

/** A started flow, as Nextcloud described it. */
export interface StartedFlow {
  pollToken: string;
  pollEndpoint: string;
  loginUrl: string;
}

/** What a successful poll hands over (once). */
export interface GrantedLogin {
  server: string;
  loginName: string;
  appPassword: string;
}

/**
 * The Nextcloud base URL (no trailing slash, no `index.php`) of a WebDAV URL: everything before `/remote.php/`.
 * @param davUrl STORAGE_URL
 */
export function nextcloudBaseOf(davUrl: string): string {
  const u = new URL(davUrl);
  const i = u.pathname.indexOf('/remote.php/');
  const prefix = (i >= 0 ? u.pathname.slice(0, i) : u.pathname).replace(/\/+$/, '');
  return `${u.origin}${prefix}`;
}

function isHttpUrl(v: unknown): v is string {
  if (typeof v !== 'string' || v.length > 2048) return false;
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

/** A printable string of 1..max characters without control characters. */
function isPlain(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max && !/[\u0000-\u001f\u007f]/.test(v);
}

function parseJson(res: AxiosResponse<string>, what: string): unknown {
  try {
    return JSON.parse(String(res.data)) as unknown;
  } catch {
    throw new SignInError('drive_unreachable', `Nextcloud's answer to ${what} is not JSON; is STORAGE_URL a Nextcloud server?`);
  }
}

/** Talks to Nextcloud's Login Flow v2 endpoints. */
export class NextcloudLoginFlow {
  /**
   * @param server Nextcloud base URL (see {@link nextcloudBaseOf})
   * @param timeoutMs longest wait for one answer
   */
  constructor(
    readonly server: string,
    private readonly timeoutMs: number,
  ) {}

  private async post(url: string, body: string | undefined, what: string): Promise<AxiosResponse<string>> {
    try {
      return await axios.post<string>(url, body, {
        timeout: this.timeoutMs,
        validateStatus: () => true,
        responseType: 'text',
        transformResponse: (d: unknown) => d,
        maxContentLength: MAX_ANSWER_BYTES,
        maxRedirects: 0,
        headers: {
          'User-Agent': LOGIN_FLOW_CLIENT_NAME,
          Accept: 'application/json',
          ...(body !== undefined ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
        },
      });
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'network error';
      throw new SignInError('drive_unreachable', `Nextcloud could not be reached for ${what} (${code === 'ECONNABORTED' ? 'timed out' : code})`);
    }
  }

  /**
   * Starts a flow (no auth, no body).
   * @throws SignInError drive_unreachable when Nextcloud is down or does not answer like Login Flow v2
   */
  async start(): Promise<StartedFlow> {
    const what = 'the start of a login';
    const res = await this.post(`${this.server}/index.php/login/v2`, undefined, what);
    if (res.status !== 200) throw new SignInError('drive_unreachable', `Nextcloud answered ${res.status} to ${what}; is Login Flow v2 available?`);
    const body = parseJson(res, what) as { poll?: { token?: unknown; endpoint?: unknown }; login?: unknown } | null;
    const token = body?.poll?.token;
    const endpoint = body?.poll?.endpoint;
    const login = body?.login;
    if (!isPlain(token, 1024) || !isHttpUrl(endpoint) || !isHttpUrl(login)) {
      throw new SignInError('drive_unreachable', `Nextcloud's answer to ${what} lacks poll.token, poll.endpoint or login`);
    }
    return { pollToken: token, pollEndpoint: endpoint, loginUrl: login };
  }

  /**
   * Polls a flow once.
   * @returns null while pending (404, also for unknown or used tokens); the login once granted
   * @throws SignInError drive_unreachable on any other answer; FlowConsumedError when a 200 is malformed
   */
  async poll(flow: Pick<StartedFlow, 'pollToken' | 'pollEndpoint'>): Promise<GrantedLogin | null> {
    const what = 'the login poll';
    const res = await this.post(flow.pollEndpoint, new URLSearchParams({ token: flow.pollToken }).toString(), what);
    if (res.status === 404) return null;
    if (res.status !== 200) throw new SignInError('drive_unreachable', `Nextcloud answered ${res.status} to ${what}; try again later`);
    let body: Partial<Record<keyof GrantedLogin, unknown>> | null;
    try {
      body = parseJson(res, what) as Partial<Record<keyof GrantedLogin, unknown>> | null;
    } catch {
      throw new FlowConsumedError(`Nextcloud's answer to ${what} is not JSON; sign in again`);
    }
    const server = body?.server;
    const loginName = body?.loginName;
    const appPassword = body?.appPassword;
    if (!isHttpUrl(server) || !isPlain(loginName, 256) || loginName.includes(':') || !isPlain(appPassword, 1024)) {
      throw new FlowConsumedError(`Nextcloud's answer to ${what} lacks server, loginName or appPassword; sign in again`);
    }
    return { server, loginName, appPassword };
  }

  /**
   * The account behind a login (`GET /ocs/v2.php/cloud/user`, fixture a-ocs-user-as-alice): its user id, which is what
   * WebDAV paths use (`/remote.php/dav/files/<user id>`), and its display name. People may log in with an e-mail
   * address or another alias, so the login name is not always the user id.
   * @returns null when Nextcloud does not say (the caller then falls back to the login name)
   */
  async account(loginName: string, appPassword: string): Promise<{ id: string; displayName: string } | null> {
    try {
      const res = await axios.get<string>(`${this.server}/ocs/v2.php/cloud/user?format=json`, {
        timeout: this.timeoutMs,
        validateStatus: () => true,
        responseType: 'text',
        transformResponse: (d: unknown) => d,
        maxRedirects: 0,
        maxContentLength: MAX_ANSWER_BYTES,
        auth: { username: loginName, password: appPassword },
        headers: { 'OCS-APIRequest': 'true', 'User-Agent': LOGIN_FLOW_CLIENT_NAME, Accept: 'application/json' },
      });
      if (res.status !== 200) return null;
      const data = (JSON.parse(String(res.data)) as { ocs?: { data?: { id?: unknown; 'display-name'?: unknown; displayname?: unknown } } } | null)?.ocs?.data;
      const id = data?.id;
      if (!isPlain(id, 256) || id.includes('/')) return null;
      const shown = data?.['display-name'] ?? data?.displayname;
      return { id, displayName: isPlain(shown, 256) ? shown : id };
    } catch {
      return null;
    }
  }

  /**
   * Revokes an app password (`DELETE /ocs/v2.php/core/apppassword`), as a client that disconnects should.
   * Best effort: resolves whatever happens.
   */
  async revokeAppPassword(loginName: string, appPassword: string): Promise<boolean> {
    try {
      const res = await axios.delete(`${this.server}/ocs/v2.php/core/apppassword`, {
        // Sign-out waits for this: a slow Nextcloud must not hold the person's page for long.
        timeout: Math.min(this.timeoutMs, 5000),
        validateStatus: () => true,
        maxRedirects: 0,
        maxContentLength: MAX_ANSWER_BYTES,
        auth: { username: loginName, password: appPassword },
        headers: { 'OCS-APIRequest': 'true', 'User-Agent': LOGIN_FLOW_CLIENT_NAME, Accept: 'application/json' },
      });
      return res.status === 200;
    } catch {
      return false;
    }
  }
}
