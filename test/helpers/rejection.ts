/**
 * Test helper: awaits a promise that must reject and hands back the rejection reason for assertions.
 *
 * @module
 */

/**
 * Awaits `p` and returns what it rejected with.
 * @param p the promise expected to reject
 * @throws when `p` resolves instead
 */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}
