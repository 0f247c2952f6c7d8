import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startRcloneWebdav, type RcloneWebdav } from '../../helpers/rcloneWebdav.js';
import { redisCommand, startRedis, type RedisServer } from '../../helpers/redisServer.js';
import { TEST_SECRETS } from '../../helpers/testBridge.js';
import { loadConfig } from '../../../connector/src/config/loadConfig.js';
import { createLogger } from '../../../connector/src/logging/createLogger.js';
import { createRedisStateStore } from '../../../connector/src/state/RedisStateStore.js';
import type { StateStore } from '../../../connector/src/state/StateStore.js';
import { WebdavStorage } from '../../../connector/src/storage/webdav/WebdavStorage.js';
import { FileIndex } from '../../../connector/src/files/FileIndex.js';
import { createUserService } from '../../../connector/src/users/createUserService.js';
import type { UserService } from '../../../connector/src/users/types.js';

const BOB = { name: 'bob', password: 'bob-drive-secret-in-redis' };

// Two bridge instances sharing Redis (behind a load balancer): a session started on one works on the other, its
// drive credentials open there too, and signing out on either ends it for both. Redis never holds a password.
describe('user sessions in Redis', () => {
  let dir: string;
  let rclone: RcloneWebdav;
  let redis: RedisServer;
  const stores: StateStore[] = [];
  const services: UserService[] = [];

  const instance = async (): Promise<UserService> => {
    const state = await createRedisStateStore(redis.url);
    stores.push(state);
    const url = `${rclone.url}/{user}`;
    const config = loadConfig({ STORAGE_URL: url, STORAGE_FLAVOUR: 'generic', REDIS_URL: redis.url, DATA_DIR: dir, PORT: '8080' }, TEST_SECRETS);
    const storage = new WebdavStorage({ url: `${rclone.url}/service`, username: BOB.name, password: BOB.password, flavour: 'generic', timeoutMs: 5000 });
    const users = createUserService({
      config,
      log: createLogger('silent'),
      state,
      storage,
      files: new FileIndex(state, storage),
      flavour: 'generic',
      embedded: false,
      davUrl: `${rclone.url}/service`,
    });
    services.push(users);
    return users;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wopi-users-redis-'));
    const served = path.join(dir, 'served');
    await mkdir(path.join(served, 'bob'), { recursive: true });
    await writeFile(path.join(served, 'bob', 'Notes.docx'), 'bob notes');
    rclone = await startRcloneWebdav({ dir: served, users: { [BOB.name]: BOB.password } });
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const s of services) await s.close();
    for (const s of stores) await s.close();
    await redis?.stop();
    await rclone?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a session started on one instance works on the other, and signing out on either ends it for both', async () => {
    const a = await instance();
    const b = await instance();
    const { cookie, session } = await a.signIn({ username: BOB.name, password: BOB.password, ip: '10.2.0.1' });
    const onB = await b.sessionOfCookie(cookie);
    expect(onB?.sid).toBe(session.sid);
    const drive = await b.driveOf(onB!);
    expect((await drive.storage.list('/')).map((f) => f.name)).toEqual(['Notes.docx']);
    // Same root, same scope: the id given on one instance resolves on the other.
    const id = await drive.files.idFor(await drive.storage.stat('/Notes.docx'));
    expect((await (await a.driveOf(session)).files.resolve(id)).path).toBe('/Notes.docx');

    await b.signOut(cookie);
    expect(await a.session(session.sid)).toBeNull();
    expect(await a.sessionOfCookie(cookie)).toBeNull();
  });

  test('Redis holds neither the password nor the cookie in clear', async () => {
    const a = await instance();
    const { cookie, session } = await a.signIn({ username: BOB.name, password: BOB.password, ip: '10.2.0.2' });
    const keys = (await redisCommand(redis.port, ['KEYS', '*'])) as string[];
    const values = await Promise.all(keys.map((k) => redisCommand(redis.port, ['GET', k])));
    const dump = keys.map((k, i) => `${k} ${String(values[i])}`).join('\n');
    expect(dump).toContain(session.sid);
    expect(dump).not.toContain(BOB.password);
    expect(dump).not.toContain(cookie);
  });
});
