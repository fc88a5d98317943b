/**
 * A small HTTP API under test, on a free loopback port: what the demo's Send and Run talk to in the tests.
 *
 *   ANY  /echo…            the request as JSON: method, path, query, headers, body (text)
 *   GET  /status/:code     that status, a JSON body
 *   GET  /users/:id        a user as JSON (404 for unknown ids)
 *   POST /login            { token } when the JSON body has user "ann" and password "pw", else 401
 *   GET  /hang             never answers (the proxy's timeout)
 *   GET  /slow/:ms         answers { slept } after that many milliseconds
 *   GET  /big?mb=N         N MiB streamed without Content-Length (the size limit); how much was written is kept
 *   GET  /big-declared?mb=N the same with Content-Length
 *   GET  /gzip             a gzip-encoded JSON body
 *   GET  /bomb?mb=N        a small gzip body that inflates to N MiB of zeros
 *   GET  /redirect/:n      n redirects, then /echo
 *   GET  /broken-gzip      a body that says gzip and is not
 *   GET  /cut              a response whose connection is closed halfway
 *   GET  /redirect-ftp     a redirect to an ftp: URL
 *   GET  /cookies          three Set-Cookie headers
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { gzipSync } from 'node:zlib'

export interface ApiServer {
  readonly url: string
  /** Bytes the last /big response wrote before it ended or was cut. */
  readonly bigWritten: () => number
  /** Whether the last /big response was cut by the client before its end. */
  readonly bigCut: () => boolean
  close(): Promise<void>
}

const USERS: Record<string, object> = { '1': { id: 1, name: 'Ann', role: 'admin' }, '2': { id: 2, name: 'Bob', role: 'viewer' } }

export async function startApi(): Promise<ApiServer> {
  let written = 0
  let cut = false
  const sockets = new Set<Socket>()
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers })
    res.end(text)
  }
  const read = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => resolve(Buffer.concat(chunks)))
    })
  const stream = (res: ServerResponse, mb: number, declared: boolean) => {
    written = 0
    cut = false
    const total = mb * 1024 * 1024
    const chunk = Buffer.alloc(64 * 1024, 'x')
    res.writeHead(200, { 'content-type': 'text/plain', ...(declared ? { 'content-length': String(total) } : {}) })
    res.on('close', () => (cut = written < total))
    const pump = () => {
      while (written < total) {
        if (res.destroyed) return
        const n = Math.min(chunk.byteLength, total - written)
        written += n
        if (!res.write(n === chunk.byteLength ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump)
      }
      res.end()
    }
    pump()
  }

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://api')
    const path = url.pathname
    const body = await read(req)
    if (path.startsWith('/echo')) {
      return json(res, 200, {
        method: req.method,
        path,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: body.toString('utf8'),
      })
    }
    let m = /^\/status\/(\d{3})$/.exec(path)
    if (m) return json(res, Number(m[1]), { status: Number(m[1]) })
    m = /^\/users\/([^/]+)$/.exec(path)
    if (m) return USERS[m[1]!] ? json(res, 200, USERS[m[1]!]) : json(res, 404, { error: 'no such user' })
    if (path === '/login' && req.method === 'POST') {
      let creds: { user?: string; password?: string } = {}
      try {
        creds = JSON.parse(body.toString('utf8')) as typeof creds
      } catch {}
      return creds.user === 'ann' && creds.password === 'pw' ? json(res, 200, { token: 'tok-ann' }) : json(res, 401, { error: 'bad credentials' })
    }
    m = /^\/slow\/(\d+)$/.exec(path)
    if (m) return void setTimeout(() => json(res, 200, { slept: Number(m![1]) }), Number(m[1]))
    if (path === '/hang') return // never answers; the socket is destroyed on close
    if (path === '/big' || path === '/big-declared') return stream(res, Number(url.searchParams.get('mb') ?? '50'), path === '/big-declared')
    if (path === '/gzip') {
      const z = gzipSync(JSON.stringify({ compressed: true, items: Array.from({ length: 100 }, (_, i) => i) }))
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(z.byteLength) })
      return res.end(z)
    }
    if (path === '/bomb') {
      const z = gzipSync(Buffer.alloc(Number(url.searchParams.get('mb') ?? '50') * 1024 * 1024))
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip', 'content-length': String(z.byteLength) })
      return res.end(z)
    }
    m = /^\/redirect\/(\d+)$/.exec(path)
    if (m) {
      const n = Number(m[1])
      res.writeHead(302, { location: n > 1 ? `/redirect/${n - 1}` : '/echo/redirected' })
      return res.end()
    }
    if (path === '/broken-gzip') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' })
      return res.end(Buffer.from('this is not gzip at all'))
    }
    if (path === '/cut') {
      // Promises 1000 bytes, sends 10, hangs up.
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' })
      res.write('0123456789')
      return void setTimeout(() => res.destroy(), 50)
    }
    if (path === '/redirect-ftp') {
      res.writeHead(302, { location: 'ftp://files.example/x' })
      return res.end()
    }
    if (path === '/cookies') {
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/', 'c=3; Path=/'])
      return json(res, 200, { ok: true })
    }
    json(res, 404, { error: `no route ${path}` })
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    bigWritten: () => written,
    bigCut: () => cut,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  }
}
