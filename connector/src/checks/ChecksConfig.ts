/**
 * What the DocumentServer checks need to know. The caller (admin API, CLI) fills it from `Config` or from the
 * settings being tried ("Check without saving"), so the checks never read the environment themselves.
 */

/** WOPI proof-key checking of the bridge (same values as `Config['docs']['proofMode']`). */
export type ChecksProofMode = 'enforce' | 'auto' | 'off';

/** Input of the DocumentServer checks. */
export interface DocsChecksConfig {
  /**
   * DocumentServer as the bridge reaches it (`DOCS_INTERNAL_URL`, else `DOCS_URL`), e.g. `http://documentserver`
   * or `https://example.com/ds` when DS is published under a sub-path. null = no DS configured.
   */
  internalUrl: string | null;
  /** DocumentServer as browsers reach it (`DOCS_PUBLIC_URL`); null or absent = the same as `internalUrl`. */
  publicUrl?: string | null;
  /** The bridge's own public URL (`PUBLIC_URL`): browsers open the host page there, DS calls WOPI there. */
  bridgeUrl?: string | null;
  /** The URL the admin page was loaded from, when the check runs for the page (its scheme matters for mixed content). */
  adminPageUrl?: string | null;
  /** DS's inbox JWT secret (`DOCS_JWT_SECRET`, DS's `services.CoAuthoring.secret.inbox.string`); null = none. */
  jwtSecret?: string | null;
  /** Header DS reads the inbox token from (`DOCS_JWT_HEADER`, DS's `token.inbox.header`); default `Authorization`. */
  jwtHeader?: string;
  /** Verify DS's TLS certificate (`DOCS_TLS_VERIFY`); default true. */
  tlsVerify?: boolean;
  /** Extra trusted CA certificate(s), PEM text. Wins over `caFile`. */
  ca?: string | Buffer | null;
  /** Path of a PEM file with extra trusted CA certificate(s) (`DOCS_CA_FILE`); read by the checks. */
  caFile?: string | null;
  /** Every DS node behind a load balancer (`DOCS_NODE_URLS`); two or more = compare the nodes. */
  nodeUrls?: readonly string[];
  /** The bridge's proof mode (`WOPI_PROOF_MODE`); default `auto`. */
  proofMode?: ChecksProofMode;
  /** Timeout of one request to DS in ms (`DOCS_TIMEOUT_MS`). */
  timeoutMs: number;
  /** The bridge's clock in ms since the epoch (tests shift it to play clock skew); default `Date.now`. */
  now?: () => number;
}

/** Per-call options every check accepts. */
export interface CheckOptions {
  /** Aborts the check's requests (runChecks' total timeout); an aborted check still returns a result. */
  signal?: AbortSignal;
}

/**
 * Names of the settings the fixes refer to: the environment variables of `loadConfig`, which are also the
 * field names of the admin page. One place to change if a setting is renamed.
 */
export const SETTING = {
  internalUrl: 'DOCS_INTERNAL_URL',
  publicUrl: 'DOCS_PUBLIC_URL',
  bridgeUrl: 'PUBLIC_URL',
  jwtSecret: 'DOCS_JWT_SECRET',
  jwtHeader: 'DOCS_JWT_HEADER',
  tlsVerify: 'DOCS_TLS_VERIFY',
  caFile: 'DOCS_CA_FILE',
  nodeUrls: 'DOCS_NODE_URLS',
  proofMode: 'WOPI_PROOF_MODE',
  timeout: 'DOCS_TIMEOUT_MS',
} as const;

/** DS's default `token.inbox.header`. */
export const DEFAULT_JWT_HEADER = 'Authorization';

/** Where DS keeps the file every fix edits. */
export const LOCAL_JSON = '/etc/onlyoffice/documentserver/local.json';

/** How to make DS read local.json again (ONLYOFFICE docs: packages vs Docker). */
export const RESTART_DS =
  'then restart DocumentServer: `systemctl restart ds-*` (DEB/RPM packages) or `supervisorctl restart all` inside the Docker container';
