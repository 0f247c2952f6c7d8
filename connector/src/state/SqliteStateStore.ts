import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { CasResult, StateStore } from './StateStore.js';
import { StateStoreError } from '../errors/errors.js';

/**
 * The embedded default: a SQLite database in the data folder, so a restart loses no lock (DS never retries a
 * failed exit save). WAL mode; several processes (the server and the CLI) may open it at once. compareAndSet runs
 * in an IMMEDIATE transaction, so it is atomic across processes too.
 */
export class SqliteStateStore implements StateStore {
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly cas: (ns: string, key: string, expected: string | null, next: string | null, expiresAt: number | null, now: number) => CasResult;

  /**
   * @param file database path (its folder is created); ':memory:' for a throwaway store
   * @param now clock, injectable for expiry tests
   */
  constructor(file: string, private readonly now: () => number = Date.now) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL keeps every committed transaction across a process crash (WAL); only a power loss may drop the last ones.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS kv (
      ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER,
      PRIMARY KEY (ns, key)) WITHOUT ROWID`);
    this.stmts = {
      get: this.db.prepare<[string, string, number], { value: string }>(
        'SELECT value FROM kv WHERE ns = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)',
      ),
      upsert: this.db.prepare<[string, string, string, number | null]>(
        'INSERT INTO kv (ns, key, value, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at',
      ),
      del: this.db.prepare<[string, string]>('DELETE FROM kv WHERE ns = ? AND key = ?'),
      list: this.db.prepare<[string, number], { key: string; value: string; expires_at: number | null }>(
        'SELECT key, value, expires_at FROM kv WHERE ns = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY key',
      ),
      purge: this.db.prepare<[number]>('DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?'),
    };
    const tx = this.db.transaction((ns: string, key: string, expected: string | null, next: string | null, expiresAt: number | null, now: number): CasResult => {
      const current = this.stmts.get.get(ns, key, now)?.value ?? null;
      if (current !== expected) return { ok: false, current };
      if (next === null) this.stmts.del.run(ns, key);
      else this.stmts.upsert.run(ns, key, next, expiresAt);
      return { ok: true, current: next };
    });
    this.cas = (...args) => tx.immediate(...args);
    this.stmts.purge.run(this.now());
  }

  private run<T>(op: string, fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(new StateStoreError({ op, backend: 'sqlite' }, e));
    }
  }

  get(ns: string, key: string): Promise<string | null> {
    return this.run('get', () => this.stmts.get.get(ns, key, this.now())?.value ?? null);
  }

  set(ns: string, key: string, value: string, ttlMs?: number): Promise<void> {
    return this.run('set', () => {
      this.stmts.upsert.run(ns, key, value, ttlMs === undefined ? null : this.now() + ttlMs);
    });
  }

  delete(ns: string, key: string): Promise<void> {
    return this.run('delete', () => {
      this.stmts.del.run(ns, key);
    });
  }

  compareAndSet(ns: string, key: string, expected: string | null, next: string | null, ttlMs?: number): Promise<CasResult> {
    return this.run('compareAndSet', () => {
      const now = this.now();
      return this.cas(ns, key, expected, next, ttlMs === undefined ? null : now + ttlMs, now);
    });
  }

  list(ns: string): Promise<Array<{ key: string; value: string; expiresAt: number | null }>> {
    return this.run('list', () => this.stmts.list.all(ns, this.now()).map((r) => ({ key: r.key, value: r.value, expiresAt: r.expires_at })));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
