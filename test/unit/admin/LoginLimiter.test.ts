import { LoginLimiter } from '../../../connector/src/admin/LoginLimiter.js';

describe('LoginLimiter', () => {
  test('5 failures in 15 minutes block the address until the oldest leaves the window; others are not affected', () => {
    let now = 1_000_000;
    const l = new LoginLimiter({ now: () => now });
    for (let i = 0; i < 5; i++) {
      expect(l.retryAfterSeconds('10.0.0.1')).toBeNull();
      l.failed('10.0.0.1');
      now += 60_000;
    }
    // oldest failure at 1_000_000; window ends 900 s after it; now = +300 s
    expect(l.retryAfterSeconds('10.0.0.1')).toBe(600);
    expect(l.retryAfterSeconds('10.0.0.2')).toBeNull();
    now = 1_000_000 + 900_000 + 1;
    expect(l.retryAfterSeconds('10.0.0.1')).toBeNull();
  });

  test('a success clears the failures', () => {
    let now = 0;
    const l = new LoginLimiter({ now: () => now });
    for (let i = 0; i < 4; i++) l.failed('a');
    l.succeeded('a');
    for (let i = 0; i < 4; i++) l.failed('a');
    expect(l.retryAfterSeconds('a')).toBeNull();
    now += 1;
    l.failed('a');
    expect(l.retryAfterSeconds('a')).toBeGreaterThan(0);
  });

  test('remembers a bounded number of addresses', () => {
    const l = new LoginLimiter({ maxAddresses: 3, maxFailures: 1, now: () => 0 });
    for (const a of ['a', 'b', 'c', 'd']) l.failed(a);
    expect(l.retryAfterSeconds('a')).toBeNull(); // forgotten
    expect(l.retryAfterSeconds('d')).not.toBeNull();
  });
});
