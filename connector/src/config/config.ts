/** Storage flavours: Nextcloud and ownCloud honour If-Match and write atomically; generic WebDAV may not. */
export type StorageFlavour = 'nextcloud' | 'owncloud' | 'generic';

/**
 * How people sign in to the file list (SIGN_IN_MODE): with their own WebDAV credentials, through Nextcloud Login
 * Flow v2 (the bridge receives an app password), or by name over one service account.
 */
export type SignInMode = 'webdav' | 'nextcloud' | 'service';

/** WOPI proof-key checking: enforce (reject unsigned or bad), auto (enforce when DS publishes keys), off. */
export type ProofMode = 'enforce' | 'auto' | 'off';

/** The bridge's configuration, validated once at start (see loadConfig). Never reloaded while running. */
export interface Config {
  /** Interface to listen on; 127.0.0.1 unless HOST says otherwise. */
  readonly host: string;
  /** TCP port (PORT, default 8080; 0 picks a free one). */
  readonly port: number;
  /** Base URL DocumentServer uses to reach the bridge (PUBLIC_URL); WOPISrc = publicUrl + /wopi/files/<id>. No trailing slash. */
  readonly publicUrl: string;
  /** Folder for the bridge's state (DATA_DIR, default ./data): state database, generated secrets, embedded drive. */
  readonly dataDir: string;
  readonly storage: {
    /** WebDAV base URL of the drive (STORAGE_URL); null = the embedded in-process WebDAV server. */
    readonly url: string | null;
    readonly username: string | null;
    readonly password: string | null;
    /** STORAGE_FLAVOUR: auto (detect through status.php) or forced. */
    readonly flavour: 'auto' | StorageFlavour;
    /** Timeout for one WebDAV request without progress (STORAGE_TIMEOUT_MS). */
    readonly timeoutMs: number;
    /** Admin account of the drive, used only by diagnostics (STORAGE_ADMIN_USER, STORAGE_ADMIN_PASSWORD[_FILE]). */
    readonly adminUsername: string | null;
    readonly adminPassword: string | null;
  };
  readonly embedded: {
    /** Folder the embedded WebDAV server serves (EMBEDDED_FILES_DIR, default <dataDir>/files). */
    readonly filesDir: string;
    /** Port of the embedded WebDAV server (EMBEDDED_WEBDAV_PORT, default 0 = any free port on 127.0.0.1). */
    readonly port: number;
    /** Generated password of the embedded server's only account (kept in <dataDir>/secrets.json). */
    readonly password: string;
  };
  readonly tokens: {
    /** HS256 secret for WOPI access tokens (WOPI_TOKEN_SECRET[_FILE]; generated on first start if unset). */
    readonly secret: string;
    /** Access token lifetime (TOKEN_TTL_SECONDS, default 10 h as Microsoft recommends). */
    readonly ttlSeconds: number;
  };
  readonly docs: {
    /** DocumentServer address as the bridge reaches it (DOCS_INTERNAL_URL, else DOCS_URL); null = no DS configured. */
    readonly internalUrl: string | null;
    /** How often discovery (actions, proof keys) is fetched again (DISCOVERY_REFRESH_SECONDS, default 12 h). */
    readonly discoveryRefreshSeconds: number;
    /** WOPI_PROOF_MODE (default auto). */
    readonly proofMode: ProofMode;
    /** Timeout of one request to DS (DOCS_TIMEOUT_MS). */
    readonly timeoutMs: number;
    /** DocumentServer address as browsers reach it (DOCS_PUBLIC_URL, default the internal URL). */
    readonly publicUrl: string | null;
    /** DS's JWT secret for its own APIs: command service, conversion (DOCS_JWT_SECRET[_FILE]). */
    readonly jwtSecret: string | null;
    /** Header DS reads the inbox token from (DOCS_JWT_HEADER, default Authorization; `services.CoAuthoring.token.inbox.header`). */
    readonly jwtHeader: string;
    /** Every DS node behind a load balancer, to compare versions, keys and secrets (DOCS_NODE_URLS, comma-separated). */
    readonly nodeUrls: readonly string[];
    /** Verify DS's TLS certificate (DOCS_TLS_VERIFY, default true). */
    readonly tlsVerify: boolean;
    /** Extra CA certificate (PEM file) for a DS with a self-signed certificate (DOCS_CA_FILE). */
    readonly caFile: string | null;
  };
  /** Redis for shared state between several bridge instances (REDIS_URL); null = the embedded on-disk store. */
  readonly redisUrl: string | null;
  /** WOPI lock expiry (LOCK_TTL_SECONDS, default 1800 = the spec's 30 minutes). */
  readonly lockTtlSeconds: number;
  /** Largest PutFile body accepted (MAX_UPLOAD_BYTES); larger answers 413. */
  readonly maxUploadBytes: number;
  /** Origin DS's editor page may postMessage to (POST_MESSAGE_ORIGIN, default the origin of publicUrl). */
  readonly postMessageOrigin: string;
  /**
   * Password of the admin page (ADMIN_PASSWORD[_FILE], at least 12 characters); null = the one generated on first
   * start, kept only as a scrypt hash in <dataDir>/admin.json and printed once.
   */
  readonly adminPassword: string | null;
  /** Minutes between background check runs (CHECK_INTERVAL_MINUTES, default 15; 0 = off). */
  readonly checkIntervalMinutes: number;
  readonly signIn: {
    /** SIGN_IN_MODE; auto = service on the embedded drive, nextcloud on a Nextcloud drive, webdav otherwise (resolved by the runtime). */
    readonly mode: 'auto' | SignInMode;
    /** Shared password people give with their name in service mode (SIGN_IN_PASSWORD[_FILE]); null = name only (loopback only). */
    readonly password: string | null;
    /** Lifetime of a user session (SESSION_TTL_SECONDS, default 12 h); signing out ends it sooner. */
    readonly sessionTtlSeconds: number;
  };
  /**
   * Extensions (lower case, no dot) that open for editing (EDITABLE_FORMATS, comma-separated); empty = every format
   * DS's discovery offers an edit action for. Others open read-only.
   */
  readonly editableFormats: readonly string[];
  readonly http: {
    /** Time a client has to send a request's headers (HEADERS_TIMEOUT_MS, default 30 s); slower → connection closed. */
    readonly headersTimeoutMs: number;
    /** Longest pause in a request body (BODY_IDLE_TIMEOUT_MS, default 30 s); longer → 408, nothing written. */
    readonly bodyIdleTimeoutMs: number;
    /** Longest whole request (REQUEST_TIMEOUT_MS, default 1 h; 0 = none), for very slow uploads. */
    readonly requestTimeoutMs: number;
  };
  /**
   * Reverse proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES: addresses or CIDR ranges, comma-separated);
   * sign-in limits then count per real client instead of per proxy. Empty = the socket address is the client.
   */
  readonly trustedProxies: readonly string[];
  /** pino level (LOG_LEVEL). */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}
