import { streamGc, streamCollector } from '../../../connector/src/http/streamGc.js';

describe('streamGc: a young-generation collection per budget of streamed bytes', () => {
  test('collects once per budget, however the bytes are split into chunks', () => {
    let collections = 0;
    const count = streamGc(1000, () => () => collections++);
    for (let i = 0; i < 25; i++) count(100); // 2,500 bytes in 100-byte chunks
    expect(collections).toBe(2);
    count(600); // 1,100 since the last one
    expect(collections).toBe(3);
  });

  test('looks the collector up once, on first need, and goes on counting without one', () => {
    let lookups = 0;
    const count = streamGc(10, () => {
      lookups++;
      return null;
    });
    count(5);
    expect(lookups).toBe(0);
    for (let i = 0; i < 10; i++) count(64 * 1024);
    expect(lookups).toBe(1);
  });

  // Not asserted: that gc stays out of every global scope. The flag reaches contexts created after it is set, and
  // Jest creates one per test file, so a file run after any streaming test in the same worker sees a global gc.
  test("V8's gc() is reachable in this Node without starting it with --expose-gc", () => {
    const collect = streamCollector();
    expect(collect).toBeInstanceOf(Function);
    // 300 calls: young collections, and two full ones started (the second while the first may still be marking).
    expect(() => {
      for (let i = 0; i < 300; i++) collect?.();
    }).not.toThrow();
  });
});
