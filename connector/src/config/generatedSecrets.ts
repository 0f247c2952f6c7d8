import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { GeneratedSecrets } from './loadConfig.js';

/**
 * Reads the secrets the bridge generated for itself, creating them on first start.
 * The file is written atomically with mode 0600 so no other local user can read it.
 * @param dataDir the data folder (created if missing, mode 0700)
 */
export async function loadOrCreateSecrets(dataDir: string): Promise<GeneratedSecrets> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'secrets.json');
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<GeneratedSecrets> | null;
    if (parsed !== null && typeof parsed === 'object' && typeof parsed.tokenSecret === 'string' && typeof parsed.embeddedPassword === 'string') {
      await chmod(file, 0o600);
      return { tokenSecret: parsed.tokenSecret, embeddedPassword: parsed.embeddedPassword };
    }
    throw new Error(`${file} is incomplete; delete it to generate new secrets (open editing sessions will need reopening)`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (e instanceof SyntaxError) throw new Error(`${file} is not valid JSON; delete it to generate new secrets`);
      throw e;
    }
  }
  const secrets: GeneratedSecrets = {
    tokenSecret: randomBytes(32).toString('hex'),
    embeddedPassword: randomBytes(24).toString('base64url'),
  };
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  await rename(tmp, file);
  return secrets;
}
