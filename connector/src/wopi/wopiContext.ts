import type { ParameterizedContext } from 'koa';
import type { Config } from '../config/config.js';
import type { Logger } from '../logging/createLogger.js';
import type { StorageAdapter } from '../storage/StorageAdapter.js';
import type { FileIndex } from '../files/FileIndex.js';
import type { LoadedVersions } from '../files/LoadedVersions.js';
import type { Locks } from '../locks/Locks.js';
import type { AccessGrant } from '../tokens/accessToken.js';
import type { StateStore } from '../state/StateStore.js';
import type { DiscoveryClient } from '../discovery/DiscoveryClient.js';
import type { ProofCounters } from './proofCheck.js';
import type { UserDrive, UserService, UserSession } from '../users/types.js';

/** What WOPI operations need; built once by createApp's caller. */
export interface WopiDeps {
  config: Config;
  storage: StorageAdapter;
  files: FileIndex;
  locks: Locks;
  versions: LoadedVersions;
  /** The raw state store, for small per-user values (PutUserInfo). */
  state: StateStore;
  /** DS discovery (proof keys); null when no DS is configured. */
  discovery: DiscoveryClient | null;
  /** Proof outcomes since start. */
  proofCounters: ProofCounters;
  /** Sign-in sessions: a token issued in one reaches the drive with that session's credentials. */
  users: UserService;
}

export interface WopiState {
  reqId: string;
  log: Logger;
  op?: string;
  fileId?: string;
  grant?: AccessGrant;
  /** The sign-in session of the token (tokens with a `sid` claim). */
  session?: UserSession;
  /** That session's drive; absent for tokens without a session (the configured drive is used). */
  drive?: UserDrive;
  bytes?: number;
  result?: string;
}

export type WopiContext = ParameterizedContext<WopiState> & { params: Record<string, string> };

/** The grant set by authenticate (always present on /wopi routes). */
export function grantOf(ctx: WopiContext): AccessGrant {
  const g = ctx.state.grant;
  if (!g) throw new Error('authenticate did not run');
  return g;
}
