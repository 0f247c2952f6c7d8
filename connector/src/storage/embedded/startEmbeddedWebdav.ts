import { createHash } from 'node:crypto';
import { stat } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { v2 as webdav } from 'webdav-server';

/** The in-process WebDAV server of the embedded default. */
export interface EmbeddedWebdav {
  /** WebDAV URL of the served folder, e.g. http://127.0.0.1:41234 */
  url: string;
  username: string;
  password: string;
  stop(): Promise<void>;
}

export const EMBEDDED_USER = 'bridge';

/**
 * PhysicalFileSystem whose ETag changes with the content: webdav-server's default hashes only the mtime in ms,
 * so two writes within one millisecond would share a version. This one hashes inode, size and mtime in ns
 * (not ctime, so a rename keeps the version).
 */
class VersionedFileSystem extends webdav.PhysicalFileSystem {
  constructor(private readonly root: string) {
    super(root);
  }

  override _etag(p: webdav.Path, _info: webdav.ETagInfo, callback: webdav.ReturnCallback<string>): void {
    stat(path.join(this.root, ...p.paths), { bigint: true }, (e, st) => {
      if (e) return callback(webdav.Errors.ResourceNotFound);
      const h = createHash('sha256').update(`${st.ino}:${st.size}:${st.mtimeNs}`).digest('hex').slice(0, 32);
      callback(undefined, `"${h}"`);
    });
  }
}

/**
 * Serves a local folder over WebDAV on 127.0.0.1 (npm webdav-server), with one account whose password the bridge
 * generated, so the bridge reaches its embedded drive through the same WebDAV adapter and real HTTP as a remote one.
 * @param folder the folder to serve (created if missing)
 * @param password the account's password
 * @param port 0 for any free port
 */
export async function startEmbeddedWebdav(folder: string, password: string, port = 0): Promise<EmbeddedWebdav> {
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const users = new webdav.SimpleUserManager();
  const user = users.addUser(EMBEDDED_USER, password, false);
  const privileges = new webdav.SimplePathPrivilegeManager();
  privileges.setRights(user, '/', ['all']);
  const server = new webdav.WebDAVServer({
    requireAuthentification: true,
    httpAuthentication: new webdav.HTTPBasicAuthentication(users, 'wopi-bridge embedded drive'),
    privilegeManager: privileges,
  });
  await new Promise<void>((resolve, reject) =>
    server.setFileSystem('/', new VersionedFileSystem(folder), (ok) => (ok ? resolve() : reject(new Error('cannot mount folder')))),
  );
  const http = createServer((req, res) => server.executeRequest(req, res));
  // Longer than the bridge's keep-alive agent keeps idle sockets: Node's 5 s default races it under load
  // (a reused socket reset mid-request, seen as 500s in the 1,000-session bench).
  http.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  const addr = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    username: EMBEDDED_USER,
    password,
    stop: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
