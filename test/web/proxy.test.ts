/**
 * The demo server's request proxy (examples/web/proxy.ts) over real sockets: the demo server with its relay,
 * a local API under test, and every refusal the proxy makes, each with its code and a message a person can read.
 */
import { request as httpRequest } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { silentLogger } from '@apisync/relay'
import { type WebServer, startWebServer } from '../../examples/web/server.js'
import { META_HEADER, type ProxyErrorBody, type ProxyRequest, type ProxyResponseMeta } from '../../examples/web/src/proxy-protocol.js'
import { type ApiServer, startApi } from './api-server.js'

let web: WebServer
let api: ApiServer
let root: string
let token: string
let host: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'apisync-proxy-'))
  api = await startApi()
  web = await startWebServer({
    port: 0,
    host: '127.0.0.1',
    dataDir: join(root, 'data'),
    outDir: join(root, 'dist'),
    build: 'never',
    logger: silentLogger,
    proxy: { maxResponseBytes: 2 * 1024 * 1024, maxRequestBytes: 1024 * 1024, timeoutMs: 10_000, maxRedirects: 3, maxConcurrent: 2 },
  })
  host = new URL(web.url).host
  token = await devToken('Proxy Tester')
}, 30_000)

afterAll(async () => {
  await web?.close()
  await api?.close()
  await rm(root, { recursive: true, force: true })
})

async function devToken(name: string): Promise<string> {
  const res = await fetch(`${web.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, device: 'test' }) })
  return ((await res.json()) as { token: string }).token
}

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** A raw HTTP request to the demo (node:http, so Host and Origin are exactly what the test says). */
function raw(method: string, body: string | Buffer | null, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL('/proxy', web.url)
    const req = httpRequest(url, { method, headers: { host, ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end(body ?? undefined)
  })
}

const sameOrigin = () => ({ origin: `http://${host}`, 'sec-fetch-site': 'same-origin', authorization: `Bearer ${token}`, 'content-type': 'application/json' })

async function proxy(envelope: Partial<ProxyRequest> | string, headers: Record<string, string> = {}): Promise<Answer> {
  return raw('POST', typeof envelope === 'string' ? envelope : JSON.stringify(envelope), { ...sameOrigin(), ...headers })
}

const meta = (a: Answer): ProxyResponseMeta => JSON.parse(decodeURIComponent(String(a.headers[META_HEADER]))) as ProxyResponseMeta

async function refused(a: Answer | Promise<Answer>, status: number, code: ProxyErrorBody['error'], message: RegExp): Promise<void> {
  const answer = await a
  const body = JSON.parse(answer.body.toString('utf8')) as ProxyErrorBody
  expect({ status: answer.status, error: body.error }).toEqual({ status, error: code })
  expect(body.message).toMatch(message)
  expect(answer.headers[META_HEADER]).toBeUndefined()
  // Never readable by another origin.
  expect(answer.headers['access-control-allow-origin']).toBeUndefined()
}

describe('the request proxy', () => {
  test('sends any method, headers and body, and returns status, headers (repeated ones too), time, size and body', async () => {
    const body = Buffer.from('a=1&b=%20two')
    const a = await proxy({
      method: 'PROPFIND',
      url: `${api.url}/echo/x?q=1`,
      headers: [
        ['X-One', 'first'],
        ['X-One', 'second'],
        ['Content-Type', 'application/x-www-form-urlencoded'],
        ['Content-Length', '9999'],
      ],
      body: body.toString('base64'),
    })
    expect(a.status).toBe(200)
    const m = meta(a)
    expect(m.status).toBe(200)
    expect(m.statusText).toBe('OK')
    expect(m.size).toBe(a.body.byteLength)
    expect(m.timeMs).toBeGreaterThanOrEqual(0)
    const echo = JSON.parse(a.body.toString('utf8')) as { method: string; path: string; query: object; headers: Record<string, string>; rawHeaders: string[]; body: string }
    expect(echo.method).toBe('PROPFIND')
    expect(echo.path).toBe('/echo/x')
    expect(echo.query).toEqual({ q: '1' })
    expect(echo.body).toBe('a=1&b=%20two')
    // The page's Content-Length is not trusted: the proxy sets it from the body it sends.
    expect(echo.headers['content-length']).toBe(String(body.byteLength))
    expect(echo.rawHeaders.filter((_, i, all) => i % 2 === 1 && all[i - 1]?.toLowerCase() === 'x-one')).toEqual(['first', 'second'])
    expect(echo.headers['user-agent']).toBe('apisync-demo')

    const cookies = meta(await proxy({ method: 'GET', url: `${api.url}/cookies`, headers: [] }))
    expect(cookies.headers.filter(([k]) => k.toLowerCase() === 'set-cookie').map(([, v]) => v)).toEqual(['a=1; Path=/', 'b=2; Path=/', 'c=3; Path=/'])
  })

  test('gzip is decoded (size as delivered and on the wire); 404 is an answer, not a failure; redirects are followed', async () => {
    const g = await proxy({ method: 'GET', url: `${api.url}/gzip`, headers: [] })
    expect(JSON.parse(g.body.toString('utf8'))).toMatchObject({ compressed: true })
    expect(meta(g).wireSize).toBeLessThan(meta(g).size)
    const nf = await proxy({ method: 'GET', url: `${api.url}/users/99`, headers: [] })
    expect(meta(nf).status).toBe(404)
    expect(meta(nf).statusText).toBe('Not Found')
    const r = await proxy({ method: 'GET', url: `${api.url}/redirect/2`, headers: [] })
    expect(meta(r).redirects).toBe(2)
    expect(meta(r).url).toBe(`${api.url}/echo/redirected`)
    const off = await proxy({ method: 'GET', url: `${api.url}/redirect/2`, headers: [], followRedirects: false })
    expect(meta(off).status).toBe(302)
    // HEAD has no body.
    const head = await proxy({ method: 'HEAD', url: `${api.url}/users/1`, headers: [] })
    expect(meta(head).status).toBe(200)
    expect(head.body.byteLength).toBe(0)
  })

  test('refuses anything but POST', async () => {
    await refused(raw('GET', null, sameOrigin()), 405, 'METHOD_NOT_ALLOWED', /POST/)
    await refused(raw('PUT', '{}', sameOrigin()), 405, 'METHOD_NOT_ALLOWED', /POST/)
  })

  test("refuses other origins, other sites and other host names (DNS rebinding): only the demo's own page", async () => {
    const ok = { method: 'GET', url: `${api.url}/echo`, headers: [] }
    await refused(proxy(ok, { origin: 'http://evil.example' }), 403, 'FORBIDDEN_ORIGIN', /own page only, not http:\/\/evil\.example/)
    await refused(proxy(ok, { origin: 'null' }), 403, 'FORBIDDEN_ORIGIN', /own page only/)
    const noOrigin = sameOrigin() as Record<string, string>
    delete noOrigin.origin
    await refused(raw('POST', JSON.stringify(ok), noOrigin), 403, 'FORBIDDEN_ORIGIN', /without Origin/)
    await refused(proxy(ok, { 'sec-fetch-site': 'cross-site' }), 403, 'FORBIDDEN_ORIGIN', /Sec-Fetch-Site: cross-site/)
    const port = new URL(web.url).port
    await refused(proxy(ok, { host: `rebound.example:${port}`, origin: `http://rebound.example:${port}` }), 403, 'FORBIDDEN_ORIGIN', /own address only, not rebound\.example/)
    // The loopback names of the same port are the demo too.
    expect((await proxy(ok, { host: `localhost:${port}`, origin: `http://localhost:${port}` })).status).toBe(200)
  })

  test('refuses without a session, with a forged token, and with a revoked session', async () => {
    const ok = { method: 'GET', url: `${api.url}/echo`, headers: [] }
    const noAuth = sameOrigin() as Record<string, string>
    delete noAuth.authorization
    await refused(raw('POST', JSON.stringify(ok), noAuth), 401, 'UNAUTHORIZED', /sign in first/)
    const [h, p] = token.split('.')
    await refused(proxy(ok, { authorization: `Bearer ${h}.${p}.forged-signature` }), 401, 'UNAUTHORIZED', /not valid/)
    // A fresh session, revoked before it is used.
    const other = await devToken('Revoked Rita')
    const sessions = (await (await fetch(`${web.url}/sessions`, { headers: { authorization: `Bearer ${other}` } })).json()) as { current: string }
    await fetch(`${web.url}/sessions?all=1`, { method: 'DELETE', headers: { authorization: `Bearer ${other}` } })
    expect(sessions.current).toBeTruthy()
    await refused(proxy(ok, { authorization: `Bearer ${other}` }), 401, 'UNAUTHORIZED', /not valid/)
  })

  test('refuses malformed requests: not JSON, wrong shapes, bad base64, too large', async () => {
    await refused(proxy('{not json'), 400, 'BAD_REQUEST', /must be JSON/)
    await refused(proxy('[1,2]'), 400, 'BAD_REQUEST', /JSON object/)
    await refused(proxy({ method: 'GET', url: `${api.url}/echo`, headers: 'x: y' as never }), 400, 'BAD_REQUEST', /pairs/)
    await refused(proxy({ method: 'GET', url: `${api.url}/echo`, headers: [['a', 'b', 'c']] as never }), 400, 'BAD_REQUEST', /pairs/)
    await refused(proxy({ method: 'POST', url: `${api.url}/echo`, headers: [], body: 'not base64!' }), 400, 'BAD_REQUEST', /base64/)
    await refused(proxy({ method: 'GET', url: `${api.url}/echo`, headers: [], timeoutMs: -1 }), 400, 'BAD_REQUEST', /timeoutMs/)
    await refused(proxy({ method: 'GET', url: `${api.url}/echo`, headers: [], followRedirects: 'yes' as never }), 400, 'BAD_REQUEST', /followRedirects/)
    const big = { method: 'POST', url: `${api.url}/echo`, headers: [], body: Buffer.alloc(900 * 1024).toString('base64') }
    await refused(proxy(big), 413, 'REQUEST_TOO_LARGE', /larger than 1 MiB/)
  })

  test('refuses bad URLs, schemes other than http(s), bad methods and header injection', async () => {
    await refused(proxy({ method: 'GET', url: '', headers: [] }), 400, 'BAD_URL', /empty/)
    await refused(proxy({ method: 'GET', url: 'http://', headers: [] }), 400, 'BAD_URL', /not a URL|no host/)
    await refused(proxy({ method: 'GET', url: 'http://exa mple.com/', headers: [] }), 400, 'BAD_URL', /not a URL/)
    for (const scheme of ['file:///etc/passwd', 'ftp://example.com/x', 'javascript:alert(1)', 'data:text/plain,hi', 'ws://example.com/']) {
      await refused(proxy({ method: 'GET', url: scheme, headers: [] }), 400, 'UNSUPPORTED_PROTOCOL', /only http and https/)
    }
    await refused(proxy({ method: 'GET /x HTTP/1.1\r\nX:', url: `${api.url}/echo`, headers: [] }), 400, 'BAD_METHOD', /not an HTTP method/)
    await refused(proxy({ url: `${api.url}/echo`, headers: [] }), 400, 'BAD_METHOD', /not an HTTP method/)
    await refused(proxy({ method: 'GET', url: `${api.url}/echo`, headers: [['X-A', 'ok\r\nX-Injected: 1']] }), 400, 'BAD_HEADER', /line break/)
    await refused(proxy({ method: 'GET', url: `${api.url}/echo`, headers: [['Bad Name', 'v']] }), 400, 'BAD_HEADER', /not a valid header name/)
    // A scheme-less URL is sent as http (as Postman does).
    const a = await proxy({ method: 'GET', url: `${new URL(api.url).host}/echo/bare`, headers: [] })
    expect(meta(a).url).toBe(`${api.url}/echo/bare`)
  })

  test('an unreachable host, a name that does not resolve, a timeout: clear errors', async () => {
    // A port nothing listens on: a server started and closed.
    const gone = await startApi()
    await gone.close()
    await refused(proxy({ method: 'GET', url: `${gone.url}/x`, headers: [] }), 502, 'UNREACHABLE', /connection refused/)
    await refused(proxy({ method: 'GET', url: 'http://no-such-host.invalid/x', headers: [] }), 502, 'UNREACHABLE', /does not resolve/)
    const started = Date.now()
    await refused(proxy({ method: 'GET', url: `${api.url}/hang`, headers: [], timeoutMs: 500 }), 504, 'TIMEOUT', /within 0\.5 s/)
    expect(Date.now() - started).toBeLessThan(9_000)
  })

  test('a response past the size limit is cut while streaming, not buffered whole; so is a decompression bomb', async () => {
    await refused(proxy({ method: 'GET', url: `${api.url}/big?mb=50`, headers: [] }), 502, 'TOO_LARGE', /larger than the demo's limit of 2 MiB/)
    // The API saw the connection closed long before 50 MiB were written.
    await expect.poll(() => api.bigCut(), { timeout: 5_000 }).toBe(true)
    expect(api.bigWritten()).toBeLessThan(50 * 1024 * 1024)
    await refused(proxy({ method: 'GET', url: `${api.url}/big-declared?mb=50`, headers: [] }), 502, 'TOO_LARGE', /is 50 MiB, more than/)
    await refused(proxy({ method: 'GET', url: `${api.url}/bomb?mb=20`, headers: [] }), 502, 'TOO_LARGE', /larger than the demo's limit/)
    // The proxy is still fine afterwards.
    expect(meta(await proxy({ method: 'GET', url: `${api.url}/users/1`, headers: [] })).status).toBe(200)
  })

  test('a body that cannot be decoded, a connection closed halfway: upstream errors that say what happened', async () => {
    await refused(proxy({ method: 'GET', url: `${api.url}/broken-gzip`, headers: [] }), 502, 'UPSTREAM_ERROR', /could not be decoded \(gzip\)/)
    await refused(proxy({ method: 'GET', url: `${api.url}/cut`, headers: [] }), 502, 'UPSTREAM_ERROR', /closed the connection in the middle of the response|broke off/)
  })

  test('too many redirects, a redirect to another scheme, and too many requests at once are refused', async () => {
    await refused(proxy({ method: 'GET', url: `${api.url}/redirect/5`, headers: [] }), 502, 'TOO_MANY_REDIRECTS', /more than 3 redirects/)
    await refused(proxy({ method: 'GET', url: `${api.url}/redirect-ftp`, headers: [] }), 400, 'UNSUPPORTED_PROTOCOL', /not ftp/)
    const a = proxy({ method: 'GET', url: `${api.url}/hang`, headers: [], timeoutMs: 1_500 })
    const b = proxy({ method: 'GET', url: `${api.url}/hang`, headers: [], timeoutMs: 1_500 })
    await new Promise((r) => setTimeout(r, 200))
    await refused(proxy({ method: 'GET', url: `${api.url}/echo`, headers: [] }), 503, 'BUSY', /already being sent/)
    await refused(a, 504, 'TIMEOUT', /within/)
    await refused(b, 504, 'TIMEOUT', /within/)
    expect(meta(await proxy({ method: 'GET', url: `${api.url}/echo`, headers: [] })).status).toBe(200)
  })
})
