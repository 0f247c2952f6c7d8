/**
 * The client address behind a reverse proxy. Sign-in limits count failures per client address; behind nginx every
 * request comes from the proxy's address, so without this one guesser would lock everyone out. Only proxies named in
 * TRUSTED_PROXIES are believed: from them the address is read from X-Forwarded-For, right to left, skipping further
 * trusted proxies (a client can prepend anything it likes, but cannot forge what our own proxy appended).
 */
import { BlockList, isIP } from 'node:net';
import type { Context, Next } from 'koa';

/** Parsed TRUSTED_PROXIES. */
export interface TrustedProxies {
  /** Whether an address is one of the trusted proxies. */
  has(address: string): boolean;
}

/** Strips the IPv4-mapped IPv6 prefix (`::ffff:127.0.0.1`) and surrounding brackets. */
function normalise(address: string): string {
  const a = address.trim().replace(/^\[(.*)\]$/, '$1');
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a) ? a.slice(7) : a;
}

/**
 * Parses a list of addresses and CIDR ranges (IPv4 or IPv6).
 * @param entries e.g. ['127.0.0.1', '10.0.0.0/8', '::1']
 * @returns the set, or the entries that are not addresses or ranges
 */
export function parseTrustedProxies(entries: readonly string[]): { ok: TrustedProxies } | { invalid: string[] } {
  const list = new BlockList();
  const invalid: string[] = [];
  for (const raw of entries) {
    const [addr = '', bits, extra] = raw.split('/');
    const family = isIP(addr);
    const max = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined) {
      invalid.push(raw);
    } else if (bits === undefined) {
      list.addAddress(addr, family === 4 ? 'ipv4' : 'ipv6');
    } else if (/^\d{1,3}$/.test(bits) && Number(bits) <= max) {
      list.addSubnet(addr, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
    } else {
      invalid.push(raw);
    }
  }
  if (invalid.length > 0) return { invalid };
  return {
    ok: {
      has(address: string): boolean {
        const a = normalise(address);
        const family = isIP(a);
        return family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
      },
    },
  };
}

/**
 * The client's address: the socket's, or, when the socket is a trusted proxy, the rightmost X-Forwarded-For entry
 * that is not itself a trusted proxy. Malformed entries stop the walk (nothing left of them can be trusted).
 * @param socketAddress the TCP peer
 * @param forwardedFor X-Forwarded-For values as received (several headers are joined in order)
 * @param trusted TRUSTED_PROXIES
 */
export function clientAddress(socketAddress: string, forwardedFor: string | string[] | undefined, trusted: TrustedProxies): string {
  let address = normalise(socketAddress);
  if (!trusted.has(address) || forwardedFor === undefined) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map((h) => normalise(h));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (isIP(hop) === 0) break;
    address = hop;
    if (!trusted.has(hop)) break;
  }
  return address;
}

/**
 * Koa middleware setting ctx.request.ip to {@link clientAddress} (Koa's own `proxy` option would believe any
 * X-Forwarded-For from anyone). Without trusted proxies it changes nothing.
 */
export function trustedProxyAddress(trusted: TrustedProxies | null) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (trusted !== null) {
      ctx.request.ip = clientAddress(ctx.req.socket.remoteAddress ?? '', ctx.req.headers['x-forwarded-for'], trusted);
    }
    await next();
  };
}
