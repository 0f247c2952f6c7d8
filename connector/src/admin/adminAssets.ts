/**
 * The admin page's static files, served from `admin-ui/` in the package: `index.html` at `/admin`, everything
 * else flat under `/admin/assets/<file>`. The folder is found at run time by walking up from this module to the
 * folder holding `package.json`, which works for the built `dist/connector/src/admin/` and for the sources under
 * ts-jest alike.
 */
import { access, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Content types of the files the page may consist of; any other extension is not served. */
export const ASSET_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};

const ASSET_NAME = /^[a-z0-9._-]+$/;

/**
 * The nearest folder at or above `from` that holds a `package.json`.
 * @param from a folder
 * @throws Error when there is none up to the file system root
 */
export async function findPackageRoot(from: string): Promise<string> {
  let dir = path.resolve(from);
  for (;;) {
    try {
      await access(path.join(dir, 'package.json'));
      return dir;
    } catch {
      const up = path.dirname(dir);
      if (up === dir) throw new Error(`no package.json above ${from}`);
      dir = up;
    }
  }
}

/** A file read for the client. */
export interface Asset {
  body: Buffer;
  contentType: string;
}

/** Serves the page's files from one folder. */
export class AdminAssets {
  private dir: Promise<string> | null = null;

  /** @param uiDir the folder (tests); default `admin-ui/` of the package, looked up on first use */
  constructor(private readonly uiDir?: string) {}

  private folder(): Promise<string> {
    this.dir ??= this.uiDir !== undefined
      ? Promise.resolve(path.resolve(this.uiDir))
      : findPackageRoot(path.dirname(fileURLToPath(import.meta.url))).then((root) => path.join(root, 'admin-ui'));
    return this.dir;
  }

  /** `index.html`, or null while the page is not installed. */
  async index(): Promise<Asset | null> {
    return this.read('index.html', 'text/html; charset=utf-8');
  }

  /**
   * One asset by name.
   * @param name file name as requested (`app.js`)
   * @returns null for a name or type that is not served, or a file that does not exist
   */
  async asset(name: string): Promise<Asset | null> {
    if (!ASSET_NAME.test(name) || name.startsWith('.')) return null;
    const type = ASSET_TYPES[path.extname(name)];
    if (type === undefined) return null;
    return this.read(name, type);
  }

  private async read(name: string, contentType: string): Promise<Asset | null> {
    const file = path.join(await this.folder(), name);
    try {
      if (!(await stat(file)).isFile()) return null;
      return { body: await readFile(file), contentType };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw e;
    }
  }
}
