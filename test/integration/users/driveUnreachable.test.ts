import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TEST_SECRETS } from '../../helpers/testBridge.js';
import { loadConfig } from '../../../connector/src/config/loadConfig.js';
import { createLogger } from '../../../connector/src/logging/createLogger.js';
import { MemoryStateStore } from '../../../connector/src/state/MemoryStateStore.js';
import { WebdavStorage } from '../../../connector/src/storage/webdav/WebdavStorage.js';
import { FileIndex } from '../../../connector/src/files/FileIndex.js';
import { createUserService } from '../../../connector/src/users/createUserService.js';
import type { UserService } from '../../../connector/src/users/types.js';

// Mode webdav when the drive cannot check the password: not the person's fault, and the message says what failed.
describe('sign-in while the drive is down', () => {
  let server: http.Server;
  let status = 503;
  let origin: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end('drive trouble at http://internal-host/secret-path');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const service = (url: string): { users: UserService; state: MemoryStateStore } => {
    const state = new MemoryStateStore();
    const config = loadConfig({ STORAGE_URL: url, STORAGE_FLAVOUR: 'generic', SIGN_IN_MODE: 'webdav', STORAGE_TIMEOUT_MS: '2000', DATA_DIR: '/tmp/unused-wopi-users', PORT: '8080' }, TEST_SECRETS);
    const storage = new WebdavStorage({ url, username: null, password: null, flavour: 'generic', timeoutMs: 2000 });
    const users = createUserService({ config, log: createLogger('silent'), state, storage, files: new FileIndex(state, storage), flavour: 'generic', embedded: false, davUrl: url });
    return { users, state };
  };

  test.each([503, 500])('a drive answering %i: drive_unreachable naming the status, nothing stored', async (code) => {
    status = code;
    const { users, state } = service(`${origin}/{user}`);
    const err = await users.signIn({ username: 'bob', password: 'pw', ip: '10.3.0.1' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'drive_unreachable', message: `The drive could not check the sign-in (it answered ${code}); try again later` });
    expect((err as Error).message).not.toContain('internal-host');
    expect(await state.list('usersession')).toHaveLength(0);
    await users.close();
  });

  test('a drive that refuses connections: drive_unreachable naming the network error', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { users } = service(`http://127.0.0.1:${port}/dav`);
    await expect(users.signIn({ username: 'bob', password: 'pw', ip: '10.3.0.2' })).rejects.toMatchObject({
      reason: 'drive_unreachable',
      message: expect.stringContaining('ECONNREFUSED'),
    });
    await users.close();
  });

  test('a drive that answers 404 for the person\'s folder: no such user there', async () => {
    status = 404;
    const { users } = service(`${origin}/{user}`);
    await expect(users.signIn({ username: 'nobody', password: 'pw', ip: '10.3.0.3' })).rejects.toMatchObject({ reason: 'bad_credentials', message: expect.stringContaining('no files folder') });
    await users.close();
  });
});
