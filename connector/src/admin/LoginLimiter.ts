/**
 * Slows down password guessing on the admin sign-in: at most `maxFailures` failed attempts per client address in a
 * sliding window (default 5 in 15 minutes); then 429 until the oldest failure leaves the window. Kept in memory
 * (per bridge instance): enough to turn an online guessing attack from thousands of tries a second into 20 an hour.
 */

/** Options of {@link LoginLimiter}. */
export interface LoginLimiterOptions {
  /** Failed attempts allowed in the window (default 5). */
  maxFailures?: number;
  /** Window length in ms (default 15 minutes). */
  windowMs?: number;
  /** Most addresses remembered; the oldest are forgotten beyond it (default 10 000). */
  maxAddresses?: number;
  /** Clock (tests). */
  now?: () => number;
}

/** Counts failed sign-ins per client address. */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;

  constructor(options: LoginLimiterOptions = {}) {
    this.maxFailures = options.maxFailures ?? 5;
    this.windowMs = options.windowMs ?? 15 * 60 * 1000;
    this.maxAddresses = options.maxAddresses ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  private live(address: string): number[] {
    const since = this.now() - this.windowMs;
    const list = (this.failures.get(address) ?? []).filter((t) => t > since);
    if (list.length === 0) this.failures.delete(address);
    else this.failures.set(address, list);
    return list;
  }

  /**
   * Whether an attempt from `address` may go ahead.
   * @returns null when it may; else the seconds until it may (for Retry-After, at least 1)
   */
  retryAfterSeconds(address: string): number | null {
    const list = this.live(address);
    if (list.length < this.maxFailures) return null;
    const oldest = list[list.length - this.maxFailures] ?? this.now();
    return Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000));
  }

  /**
   * Counts an attempt as failed. Called *before* the password is checked (and undone by {@link succeeded}), so
   * that attempts sent in parallel count too.
   */
  failed(address: string): void {
    const list = this.live(address);
    list.push(this.now());
    this.failures.delete(address);
    this.failures.set(address, list.slice(-this.maxFailures));
    while (this.failures.size > this.maxAddresses) {
      const first = this.failures.keys().next();
      if (first.done) break;
      this.failures.delete(first.value);
    }
  }

  /** A successful sign-in clears the address's failures. */
  succeeded(address: string): void {
    this.failures.delete(address);
  }
}
