import { clientAddress, parseTrustedProxies, type TrustedProxies } from '../../../connector/src/http/trustedProxies.js';

function trusted(...entries: string[]): TrustedProxies {
  const parsed = parseTrustedProxies(entries);
  if (!('ok' in parsed)) throw new Error(`invalid: ${parsed.invalid.join(' ')}`);
  return parsed.ok;
}

describe('TRUSTED_PROXIES', () => {
  test('addresses and CIDR ranges of both families are understood, IPv4-mapped IPv6 peers included', () => {
    const t = trusted('127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8');
    expect(t.has('127.0.0.1')).toBe(true);
    expect(t.has('::ffff:127.0.0.1')).toBe(true);
    expect(t.has('10.200.3.4')).toBe(true);
    expect(t.has('11.0.0.1')).toBe(false);
    expect(t.has('::1')).toBe(true);
    expect(t.has('fd12::5')).toBe(true);
    expect(t.has('2001:db8::1')).toBe(false);
    expect(t.has('not an address')).toBe(false);
  });

  test.each([['proxy.example.com'], ['10.0.0.0/33'], ['::1/129'], ['1.2.3.4/8/9'], ['10.0.0.0/x'], ['']])('garbage %j is refused', (entry) => {
    expect(parseTrustedProxies([entry])).toEqual({ invalid: [entry] });
  });
});

describe('the client address behind a proxy', () => {
  const proxies = trusted('127.0.0.1', '10.0.0.0/8');

  test('from a trusted proxy: the rightmost forwarded address that is not a proxy', () => {
    expect(clientAddress('127.0.0.1', '203.0.113.7', proxies)).toBe('203.0.113.7');
    // a chain of our own proxies (CDN → nginx): skip them
    expect(clientAddress('127.0.0.1', '203.0.113.7, 10.1.1.1', proxies)).toBe('203.0.113.7');
    // several headers count in order
    expect(clientAddress('::ffff:127.0.0.1', ['198.51.100.1', '203.0.113.7'], proxies)).toBe('203.0.113.7');
  });

  test('what a client prepends itself is not believed: only the hop our proxy appended counts', () => {
    expect(clientAddress('127.0.0.1', '1.1.1.1, 203.0.113.7', proxies)).toBe('203.0.113.7');
  });

  test('from anyone else the header is ignored: the socket is the client', () => {
    expect(clientAddress('198.51.100.9', '203.0.113.7', proxies)).toBe('198.51.100.9');
    expect(clientAddress('::ffff:198.51.100.9', '203.0.113.7', proxies)).toBe('198.51.100.9');
  });

  test('garbage in the header stops the walk at the last address that could be trusted', () => {
    expect(clientAddress('127.0.0.1', 'unknown', proxies)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', '203.0.113.7, <script>, 10.1.1.1', proxies)).toBe('10.1.1.1');
    expect(clientAddress('127.0.0.1', '', proxies)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', ',,,', proxies)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', 'x'.repeat(10_000), proxies)).toBe('127.0.0.1');
    // every hop a proxy: the leftmost one is the best we know
    expect(clientAddress('127.0.0.1', '10.0.0.5, 10.0.0.6', proxies)).toBe('10.0.0.5');
  });
});
