/**
 * Small servers for the check tests, beside the DocumentServer double: a server that accepts and never answers,
 * a closed port, a TCP forwarder (a second "node" with the same keys as the double), plain handlers that answer
 * like something that is not DocumentServer, and HTTPS fronts with certificates made by the `openssl` CLI.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DocsChecksConfig } from '../../../connector/src/checks/ChecksConfig.js';

/** A running server with its base URL. */
export interface Running {
  url: string;
  port: number;
  close(): Promise<void>;
}

async function listen(server: net.Server, scheme: 'http' | 'https' = 'http'): Promise<Running> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An HTTP server with a handler. */
export function startHttp(handler: http.RequestListener): Promise<Running> {
  return listen(http.createServer(handler));
}

/** Accepts connections and never answers (a firewall that lets SYN through but nothing comes back looks the same). */
export function startSilent(): Promise<Running> {
  return listen(net.createServer(() => undefined));
}

/** A URL on 127.0.0.1 where nothing listens (a port that was just freed). */
export async function closedPortUrl(): Promise<string> {
  const s = await listen(net.createServer());
  await s.close();
  return s.url;
}

/** Forwards every TCP connection to `target` (another address for the same server). */
export function startForwarder(target: string): Promise<Running> {
  const u = new URL(target);
  return listen(
    net.createServer((client) => {
      const upstream = net.connect(Number(u.port), u.hostname);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    }),
  );
}

/** An HTTPS server with the given key and certificate (PEM). */
export function startHttps(key: Buffer, cert: Buffer, handler: http.RequestListener): Promise<Running> {
  return listen(https.createServer({ key, cert }, handler), 'https');
}

/** Answers `true` on /healthcheck, like a healthy DS, for TLS tests. */
export const healthyHandler: http.RequestListener = (req, res) => {
  if (req.url === '/healthcheck') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('true');
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Not Found');
  }
};

/** Sends one answer. */
export function reply(res: http.ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

/** Key and certificate files made by openssl. */
export interface CertPair {
  key: Buffer;
  cert: Buffer;
}

/** Certificates for the TLS tests, generated once with the openssl CLI in a temp folder. */
export interface TestCerts {
  /** Self-signed for 127.0.0.1 / localhost. */
  selfSigned: CertPair;
  /** Self-signed for 127.0.0.1, valid 2020-01-01 to 2020-01-02. */
  expired: CertPair;
  /** Self-signed for other.example only. */
  otherName: CertPair;
  /** Leaf for 127.0.0.1 signed by `ca`. */
  leaf: CertPair;
  /** The CA that signed `leaf` (PEM). */
  ca: Buffer;
  dir: string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Generates {@link TestCerts} (needs `openssl` on PATH). */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(path.join(tmpdir(), 'checks-tls-'));
  const read = (name: string): Buffer => readFileSync(path.join(dir, name));
  const selfSigned = (name: string, cn: string, san: string): CertPair => {
    openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`]);
    return { key: read(`${name}.key`), cert: read(`${name}.pem`) };
  };
  const ss = selfSigned('ss', '127.0.0.1', 'IP:127.0.0.1,DNS:localhost');
  const other = selfSigned('other', 'other.example', 'DNS:other.example');

  // Expired: `openssl ca` is the only way in OpenSSL 3.0 to set dates in the past.
  writeFileSync(path.join(dir, 'index.txt'), '');
  writeFileSync(path.join(dir, 'serial'), '01\n');
  writeFileSync(
    path.join(dir, 'ca.cnf'),
    ['[ ca ]', 'default_ca = d', '[ d ]', 'database = index.txt', 'serial = serial', 'new_certs_dir = .', 'default_md = sha256', 'policy = p', 'copy_extensions = copy', 'unique_subject = no', '[ p ]', 'commonName = supplied', ''].join('\n'),
  );
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'exp.key', '-out', 'exp.csr', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  openssl(dir, ['ca', '-batch', '-config', 'ca.cnf', '-selfsign', '-keyfile', 'exp.key', '-in', 'exp.csr', '-out', 'exp.pem', '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-notext']);

  // A private CA and a leaf it signed.
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Test CA']);
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(path.join(dir, 'leaf.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(dir, ['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '2', '-extfile', 'leaf.ext']);

  return {
    selfSigned: ss,
    expired: { key: read('exp.key'), cert: read('exp.pem') },
    otherName: other,
    leaf: { key: read('leaf.key'), cert: read('leaf.pem') },
    ca: read('ca.pem'),
    dir,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A config for the checks with short timeouts. */
export function checksConfig(internalUrl: string | null, over: Partial<DocsChecksConfig> = {}): DocsChecksConfig {
  return { internalUrl, timeoutMs: 2000, ...over };
}

/** Fails the test when any field of the value contains one of the strings (secrets, tokens). */
export function expectNoSecret(value: unknown, secrets: readonly string[]): void {
  const text = JSON.stringify(value);
  for (const s of secrets) {
    if (text.includes(s)) throw new Error(`result contains a secret (${s.slice(0, 3)}…): ${text.slice(0, 200)}`);
  }
  if (/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\./.test(text)) throw new Error('result contains a JWT');
}
