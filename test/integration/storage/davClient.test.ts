import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { WebdavStorage } from '../../../connector/src/storage/webdav/WebdavStorage.js';
import { StorageError } from '../../../connector/src/storage/StorageAdapter.js';

// WebdavStorage's own HTTP client (DavClient, node:http with keep-alive) against a small real server that answers what
// a drive or something in front of it may answer: refused credentials, redirects, garbage, stalls, closed sockets.

const MULTISTATUS = (href: string): string => `<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:"><d:response><d:href>${href}</d:href><d:propstat><d:prop>
<d:getetag>"e1"</d:getetag><d:getcontentlength>5</d:getcontentlength><d:resourcetype/>
</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`;

interface Drive {
  url: string;
  /** Requests seen, in order. */
  seen: Array<{ method: string; url: string; authorization: string | undefined; socket: Socket }>;
  connections: number;
  handle: (req: IncomingMessage, res: ServerResponse, nthOnSocket: number) => void;
  close: () => Promise<void>;
}

async function startDrive(): Promise<Drive> {
  const perSocket = new WeakMap<Socket, number>();
  const drive: Drive = {
    url: '',
    seen: [],
    connections: 0,
    handle: (_req, res) => {
      res.writeHead(207, { 'Content-Type': 'application/xml' }).end(MULTISTATUS('/dav/a.docx'));
    },
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    drive.seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, socket: req.socket });
    // Read the request body before answering, as a drive does.
    req.resume();
    req.on('end', () => drive.handle(req, res, n));
  });
  server.on('connection', () => drive.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  drive.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  drive.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return drive;
}

const failure = async (p: Promise<unknown>): Promise<StorageError> => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StorageError);
  return e as StorageError;
};

describe('WebdavStorage on node:http: what the drive answers', () => {
  let drive: Drive;
  let storage: WebdavStorage;
  beforeEach(async () => {
    drive = await startDrive();
    storage = new WebdavStorage({ url: `${drive.url}/dav`, username: 'bridge', password: 'pässword:1', flavour: 'generic', timeoutMs: 1000, sweepIntervalMs: 0 });
  });
  afterEach(async () => {
    await storage.close();
    await drive.close();
  });

  test('sends Basic credentials (UTF-8) and the percent-encoded path; many requests share one kept-alive connection', async () => {
    for (let i = 0; i < 20; i++) expect((await storage.stat('/a b#?.docx')).version).toBe('e1');
    expect(drive.seen[0]).toMatchObject({ method: 'PROPFIND', url: '/dav/a%20b%23%3F.docx' });
    expect(drive.seen[0]?.authorization).toBe(`Basic ${Buffer.from('bridge:pässword:1', 'utf8').toString('base64')}`);
    expect(drive.connections).toBe(1);
  });

  test('401 (the bridge\'s credentials refused) → unavailable with auth: true', async () => {
    drive.handle = (_req, res) => res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' }).end('no');
    const e = await failure(storage.stat('/a.docx'));
    expect(e.kind).toBe('unavailable');
    expect(e.detail).toMatchObject({ status: 401, auth: true, op: 'propfind' });
  });

  test('a redirect is not followed (it would carry the credentials elsewhere): unavailable with its status', async () => {
    const elsewhere = await startDrive();
    try {
      drive.handle = (_req, res) => res.writeHead(302, { Location: `${elsewhere.url}/dav/a.docx` }).end();
      const e = await failure(storage.stat('/a.docx'));
      expect(e.kind).toBe('unavailable');
      expect(e.detail.status).toBe(302);
      const get = await failure(storage.openReadStream('/a.docx'));
      expect(get.detail.status).toBe(302);
      expect(elsewhere.seen).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });

  test('a Sabre error body goes to the log detail; an HTML error page does not', async () => {
    drive.handle = (_req, res) =>
      res
        .writeHead(507, { 'Content-Type': 'application/xml' })
        .end('<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns"><s:exception>Sabre\\DAV\\Exception\\InsufficientStorage</s:exception><s:message>full</s:message></d:error>');
    const e = await failure(storage.stat('/a.docx'));
    expect(e.kind).toBe('insufficient_storage');
    expect(e.detail).toMatchObject({ status: 507, exception: 'Sabre\\DAV\\Exception\\InsufficientStorage', message: 'full' });
    drive.handle = (_req, res) => res.writeHead(502).end('<html><body>' + 'x'.repeat(100_000) + '</body></html>');
    const html = await failure(storage.stat('/a.docx'));
    expect(html.detail).toMatchObject({ status: 502 });
    expect(html.detail).not.toHaveProperty('exception');
  });

  test.each([
    ['garbage', 'not xml <<<'],
    ['an HTML page', '<!DOCTYPE html><html><body>Login</body></html>'],
    ['an empty body', ''],
  ])('a 207 with %s → unavailable "not WebDAV", never a crash', async (_what, body) => {
    drive.handle = (_req, res) => res.writeHead(207).end(body);
    const e = await failure(storage.stat('/a.docx'));
    expect(e.kind).toBe('unavailable');
    expect(e.message).toMatch(/not WebDAV/);
  });

  test('a PROPFIND answer that stalls half-way fails as a timeout within timeoutMs + slack', async () => {
    drive.handle = (_req, res) => {
      res.writeHead(207);
      res.write('<d:multistatus xmlns:d="DAV:"><d:response>');
    };
    const started = performance.now();
    const e = await failure(storage.stat('/a.docx'));
    expect(e.kind).toBe('unavailable');
    expect(e.detail.timeout).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000 + 1500);
  });

  test('a request on a kept-alive socket the drive closed meanwhile is sent again once, on a new connection', async () => {
    expect((await storage.stat('/a.docx')).version).toBe('e1');
    // The drive drops the kept-alive connection when the next request arrives on it (its keep-alive timeout racing us).
    drive.handle = (req, res, n) => {
      if (n > 1) req.socket.destroy();
      else res.writeHead(207).end(MULTISTATUS('/dav/a.docx'));
    };
    expect((await storage.stat('/a.docx')).version).toBe('e1');
    expect(drive.connections).toBe(2);
  });

  test('GET streams the body with its length and ETag; a streamed PUT is sent with Content-Length, not chunked', async () => {
    let put: { headers: IncomingMessage['headers']; bytes: number } | null = null;
    drive.handle = (req, res) => {
      if (req.method === 'GET') res.writeHead(200, { 'Content-Length': '5', ETag: '"g1"' }).end('hello');
      else if (req.method === 'PUT') res.writeHead(201).end();
      else if (req.method === 'MOVE') res.writeHead(204).end();
      else res.writeHead(207).end(MULTISTATUS(req.url ?? ''));
    };
    const got = await storage.openReadStream('/a.docx');
    expect(got).toMatchObject({ size: 5, version: 'g1' });
    const chunks: Buffer[] = [];
    for await (const c of got.stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('hello');

    const inner = drive.handle;
    drive.handle = (req, res, n) => {
      if (req.method === 'PUT') put = { headers: req.headers, bytes: Number(req.headers['content-length']) };
      inner(req, res, n);
    };
    const written = await storage.writeStream('/a.docx', Readable.from([Buffer.alloc(3), Buffer.alloc(2)]), { contentLength: 5 });
    expect(written.version).toBe('e1');
    expect(put).not.toBeNull();
    expect(put!.bytes).toBe(5);
    expect(put!.headers['transfer-encoding']).toBeUndefined();
    expect(drive.seen.map((r) => r.method)).toEqual(['GET', 'PUT', 'PROPFIND', 'MOVE', 'PROPFIND']);
  });

  test('a download whose body stalls on the drive fails with a timeout StorageError within timeoutMs + slack', async () => {
    drive.handle = (_req, res) => {
      res.writeHead(200, { 'Content-Length': '1000000' });
      res.write(Buffer.alloc(1000));
    };
    const { stream } = await storage.openReadStream('/a.docx');
    const started = performance.now();
    const e = await (async () => {
      for await (const _chunk of stream);
    })().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(StorageError);
    expect((e as StorageError).detail).toMatchObject({ op: 'get', timeout: true });
    expect(performance.now() - started).toBeLessThan(1000 + 1500);
  });

  test('a drive that is not there → unavailable with the network code', async () => {
    const down = new WebdavStorage({ url: 'http://127.0.0.1:9/dav', username: null, password: null, flavour: 'generic', timeoutMs: 1000, sweepIntervalMs: 0 });
    try {
      const e = await failure(down.stat('/a.docx'));
      expect(e.kind).toBe('unavailable');
      expect(e.detail.network).toBe('ECONNREFUSED');
    } finally {
      await down.close();
    }
  });
});
