import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The project's read-only `shared/` folder (captures of a real Nextcloud and a real DocService), which CI places
 * beside the clone. Tests run from the repository root.
 */
export const SHARED_DIR = path.resolve(process.cwd(), '../shared');

/**
 * A folder of captured fixtures under shared/fixtures.
 * @throws Error with a clear message when shared/ is not beside the repository
 */
export function fixturesDir(...parts: string[]): string {
  const dir = path.join(SHARED_DIR, 'fixtures', ...parts);
  if (!existsSync(dir)) throw new Error(`fixtures not found at ${dir}: the shared/ folder must sit beside the repository`);
  return dir;
}
