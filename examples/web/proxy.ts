/**
 * The demo's request proxy (`POST /proxy`): sends the request a person built in the app to any http(s) API, so
 * the browser's CORS rules do not decide what can be tested, and hands back status, headers, timing and body.
 * The wire format is in src/proxy-protocol.ts.
 *
 * It is not an open relay: it answers only on the address the demo listens on (loopback by default), only to
 * the demo's own page (Host and Origin must be the demo's: another site, or a DNS-rebound name, is refused),
 * and only with a live session of the relay (`Authorization: Bearer`, checked by `authorize`). Each request has
 * a deadline, the response is read as a stream and cut at `maxResponseBytes` (never buffered past it, even
 * decompressed), and at most `maxConcurrent` requests run at once.
 */
import { Buffer } from 'node:buffer'
import { type IncomingMessage, type OutgoingHttpHeaders, STATUS_CODES, request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Readable, Transform } from 'node:stream'
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib'
import { META_HEADER, type ProxyErrorBody, type ProxyErrorCode, type ProxyRequest, type ProxyResponseMeta } from './src/proxy-protocol.js'

export interface ProxyOptions {
  /** Whether `host:port` (the Host header) is an address the demo is reached by; Origin must then match it. */
  readonly allowHost: (host: string) => boolean
  /** Whether this bearer token is a live session (the demo asks its relay). */
  readonly authorize: (token: string) => Promise<boolean>
  /** Default 10 MiB. */
  readonly maxResponseBytes?: number
  /** The JSON envelope, body included (base64). Default 10 MiB. */
  readonly maxRequestBytes?: number
  /** Default and upper bound of a request's deadline. Default 30 s. */
  readonly timeoutMs?: number
  readonly maxRedirects?: number
  readonly maxConcurrent?: number
}

export class ProxyError extends Error {
  override readonly name = 'ProxyError'
  constructor(
    readonly code: ProxyErrorCode,
    message: string,
  ) {
    super(message)
  }
}

const STATUS: Record<ProxyErrorCode, number> = {
  METHOD_NOT_ALLOWED: 405,
  FORBIDDEN_ORIGIN: 403,
  UNAUTHORIZED: 401,
  BAD_REQUEST: 400,
  REQUEST_TOO_LARGE: 413,
  BAD_URL: 400,
  UNSUPPORTED_PROTOCOL: 400,
  BAD_METHOD: 400,
  BAD_HEADER: 400,
  BUSY: 503,
  UNREACHABLE: 502,
  TIMEOUT: 504,
  TOO_LARGE: 502,
  TOO_MANY_REDIRECTS: 502,
  UPSTREAM_ERROR: 502,
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// Header values: visible ASCII, spaces, tabs and obs-text; never CR, LF or NUL (header injection).
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
/** Set by the proxy from the body it sends, never taken from the page. */
const HOP_BY_HOP = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'proxy-connection', 'te', 'trailer'])

const mib = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`

function errorResponse(code: ProxyErrorCode, message: string): Response {
  const body: ProxyErrorBody = { error: code, message }
  return new Response(JSON.stringify(body), { status: STATUS[code], headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } })
}

export function createProxy(options: ProxyOptions): (request: Request) => Promise<Response> {
  const maxResponseBytes = options.maxResponseBytes ?? 10 * 1024 * 1024
  const maxRequestBytes = options.maxRequestBytes ?? 10 * 1024 * 1024
  const maxTimeout = options.timeoutMs ?? 30_000
  const maxRedirects = options.maxRedirects ?? 10
  const maxConcurrent = options.maxConcurrent ?? 8
  let running = 0

  return async (request) => {
    try {
      if (request.method !== 'POST') throw new ProxyError('METHOD_NOT_ALLOWED', 'POST a request to send as JSON')
      await admit(request)
      const envelope = parseEnvelope(await readLimited(request, maxRequestBytes))
      if (running >= maxConcurrent) throw new ProxyError('BUSY', `${maxConcurrent} requests are already being sent: try again when one finishes`)
      running++
      try {
        const timeout = Math.min(maxTimeout, envelope.timeoutMs ?? maxTimeout)
        return await send(envelope, { timeout, maxResponseBytes, maxRedirects, signal: request.signal })
      } finally {
        running--
      }
    } catch (err) {
      if (err instanceof ProxyError) return errorResponse(err.code, err.message)
      return errorResponse('UPSTREAM_ERROR', err instanceof Error ? err.message : String(err))
    }
  }

  /** Same site and a live session, or a ProxyError. */
  async function admit(request: Request): Promise<void> {
    const host = request.headers.get('host') ?? ''
    if (!options.allowHost(host)) throw new ProxyError('FORBIDDEN_ORIGIN', `the proxy answers the demo's own address only, not ${host || 'a request without Host'}`)
    const origin = request.headers.get('origin')
    if (origin !== `http://${host}` && origin !== `https://${host}`) throw new ProxyError('FORBIDDEN_ORIGIN', `the proxy answers the demo's own page only, not ${origin ?? 'a request without Origin'}`)
    const site = request.headers.get('sec-fetch-site')
    if (site !== null && site !== 'same-origin') throw new ProxyError('FORBIDDEN_ORIGIN', `the proxy answers the demo's own page only (Sec-Fetch-Site: ${site})`)
    const token = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1]
    if (!token) throw new ProxyError('UNAUTHORIZED', 'sign in first: the proxy needs your session (Authorization: Bearer)')
    if (!(await options.authorize(token))) throw new ProxyError('UNAUTHORIZED', 'this session is not valid (expired or signed out): sign in again')
  }
}

async function readLimited(request: Request, max: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? NaN)
  if (declared > max) throw new ProxyError('REQUEST_TOO_LARGE', `the request is larger than ${mib(max)}`)
  if (!request.body) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > max) {
      await reader.cancel()
      throw new ProxyError('REQUEST_TOO_LARGE', `the request is larger than ${mib(max)}`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

interface Envelope {
  readonly method: string
  readonly url: URL
  readonly headers: readonly (readonly [string, string])[]
  readonly body: Buffer | undefined
  readonly timeoutMs: number | undefined
  readonly followRedirects: boolean
}

function parseEnvelope(text: string): Envelope {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new ProxyError('BAD_REQUEST', 'the request to send must be JSON: { method, url, headers, body? }')
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ProxyError('BAD_REQUEST', 'expected a JSON object { method, url, headers, body? }')
  const e = json as Partial<Record<keyof ProxyRequest, unknown>>
  if (typeof e.method !== 'string' || !TOKEN.test(e.method)) throw new ProxyError('BAD_METHOD', `${JSON.stringify(e.method ?? null)} is not an HTTP method`)
  if (typeof e.url !== 'string' || e.url.trim() === '') throw new ProxyError('BAD_URL', 'the URL is empty')
  const url = parseUrl(e.url.trim())
  const headers: [string, string][] = []
  if (e.headers !== undefined) {
    if (!Array.isArray(e.headers)) throw new ProxyError('BAD_REQUEST', 'headers must be a list of [name, value] pairs')
    for (const pair of e.headers as unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') throw new ProxyError('BAD_REQUEST', 'headers must be a list of [name, value] pairs')
      const [name, value] = pair as [string, string]
      if (!TOKEN.test(name)) throw new ProxyError('BAD_HEADER', `${JSON.stringify(name)} is not a valid header name`)
      if (!HEADER_VALUE.test(value)) throw new ProxyError('BAD_HEADER', `the value of header ${name} has a line break or a character a header cannot carry`)
      headers.push([name, value])
    }
  }
  let body: Buffer | undefined
  if (e.body !== undefined && e.body !== null) {
    if (typeof e.body !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(e.body)) throw new ProxyError('BAD_REQUEST', 'body must be base64')
    body = Buffer.from(e.body, 'base64')
  }
  const timeoutMs = e.timeoutMs === undefined ? undefined : Number(e.timeoutMs)
  if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new ProxyError('BAD_REQUEST', 'timeoutMs must be a positive number')
  if (e.followRedirects !== undefined && typeof e.followRedirects !== 'boolean') throw new ProxyError('BAD_REQUEST', 'followRedirects must be true or false')
  return { method: e.method, url, headers, body, timeoutMs, followRedirects: e.followRedirects !== false }
}

function parseUrl(raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    // Postman sends `example.com/x` as http://example.com/x.
    if (/^[a-z][a-z0-9+.-]*:/i.test(raw) && !/^[^:/]+:\d/.test(raw)) throw new ProxyError('BAD_URL', `${raw} is not a URL`)
    try {
      url = new URL(`http://${raw}`)
    } catch {
      throw new ProxyError('BAD_URL', `${raw} is not a URL`)
    }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ProxyError('UNSUPPORTED_PROTOCOL', `only http and https can be sent, not ${url.protocol.replace(/:$/, '')}`)
  if (!url.hostname) throw new ProxyError('BAD_URL', `${raw} has no host`)
  return url
}

interface SendLimits {
  readonly timeout: number
  readonly maxResponseBytes: number
  readonly maxRedirects: number
  readonly signal: AbortSignal
}

async function send(envelope: Envelope, limits: SendLimits): Promise<Response> {
  const started = performance.now()
  const deadline = AbortSignal.any([AbortSignal.timeout(limits.timeout), limits.signal])
  let { url, method, body } = envelope
  let headers = envelope.headers
  let redirects = 0
  for (;;) {
    const res = await exchange(url, method, headers, body, deadline, limits.timeout)
    const location = res.headers.location
    if (envelope.followRedirects && location && [301, 302, 303, 307, 308].includes(res.statusCode ?? 0)) {
      res.resume()
      if (redirects >= limits.maxRedirects) throw new ProxyError('TOO_MANY_REDIRECTS', `more than ${limits.maxRedirects} redirects (last to ${location})`)
      redirects++
      const next = parseUrl(new URL(location, url).href)
      // As browsers and Postman do: 303 (and 301/302 after a POST) become a GET without a body.
      if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')) {
        if (method !== 'HEAD') method = 'GET'
        body = undefined
        headers = headers.filter(([k]) => !/^content-/i.test(k))
      }
      // Credentials do not follow to another origin.
      if (next.origin !== url.origin) headers = headers.filter(([k]) => !/^(authorization|cookie)$/i.test(k))
      url = next
      continue
    }
    const { bytes, wireSize } = await readBody(res, url, method, limits, deadline)
    const meta: ProxyResponseMeta = {
      status: res.statusCode ?? 0,
      statusText: res.statusMessage || STATUS_CODES[res.statusCode ?? 0] || '',
      headers: pairs(res.rawHeaders),
      url: url.href,
      redirects,
      timeMs: Math.round(performance.now() - started),
      size: bytes.byteLength,
      wireSize,
    }
    return new Response(new Uint8Array(bytes), {
      status: 200,
      headers: { [META_HEADER]: encodeURIComponent(JSON.stringify(meta)), 'content-type': 'application/octet-stream', 'cache-control': 'no-store' },
    })
  }
}

const pairs = (raw: readonly string[]): [string, string][] => {
  const out: [string, string][] = []
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!])
  return out
}

function exchange(url: URL, method: string, headers: readonly (readonly [string, string])[], body: Buffer | undefined, signal: AbortSignal, timeout: number): Promise<IncomingMessage> {
  const out: OutgoingHttpHeaders = {}
  const lower = new Set<string>()
  for (const [k, v] of headers) {
    const key = k.toLowerCase()
    if (HOP_BY_HOP.has(key)) continue
    const prev = out[key]
    out[key] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v]
    lower.add(key)
  }
  // Postman's defaults where the request does not set them.
  if (!lower.has('user-agent')) out['user-agent'] = 'apisync-demo'
  if (!lower.has('accept')) out.accept = '*/*'
  if (!lower.has('accept-encoding')) out['accept-encoding'] = 'gzip, deflate, br'
  if (body !== undefined) out['content-length'] = String(body.byteLength)
  out.connection = 'close'
  return new Promise((resolve, reject) => {
    const onAbort = () => req.destroy(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)))
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest
    const req = request(url, { method, headers: out, agent: false })
    signal.addEventListener('abort', onAbort, { once: true })
    req.once('response', (res) => {
      signal.removeEventListener('abort', onAbort)
      resolve(res)
    })
    req.once('error', (err) => {
      signal.removeEventListener('abort', onAbort)
      reject(upstreamError(err, url, signal, timeout))
    })
    if (signal.aborted) onAbort()
    req.end(body)
  })
}

function upstreamError(err: unknown, url: URL, signal: AbortSignal, timeout: number): ProxyError {
  if (err instanceof ProxyError) return err
  if (signal.aborted) {
    const reason: unknown = signal.reason
    if (reason instanceof DOMException && reason.name === 'TimeoutError') return new ProxyError('TIMEOUT', `no complete response from ${url.host} within ${timeout / 1000} s`)
    return new ProxyError('UPSTREAM_ERROR', 'the request was cancelled')
  }
  const code = (err as { code?: unknown }).code
  const message = err instanceof Error ? err.message : String(err)
  const host = url.host
  switch (code) {
    case 'ECONNREFUSED':
      return new ProxyError('UNREACHABLE', `could not connect to ${host}: connection refused (is the server running?)`)
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return new ProxyError('UNREACHABLE', `could not find ${url.hostname}: the name does not resolve`)
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'ETIMEDOUT':
      return new ProxyError('UNREACHABLE', `could not reach ${host} (${String(code)})`)
    case 'ECONNRESET':
    case 'EPIPE':
      return new ProxyError('UPSTREAM_ERROR', `${host} closed the connection before answering (${String(code)})`)
    default:
      return new ProxyError('UPSTREAM_ERROR', typeof code === 'string' && /CERT|TLS|SSL/.test(code) ? `TLS with ${host} failed: ${message}` : `${host}: ${message}`)
  }
}

function decoderFor(encoding: string | undefined): Transform | null {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip()
    case 'deflate':
      return createInflate()
    case 'br':
      return createBrotliDecompress()
    default:
      return null
  }
}

/** Reads the body as a stream, decoding it, and stops past the limit (counting the decoded bytes). */
function readBody(res: IncomingMessage, url: URL, method: string, limits: SendLimits, signal: AbortSignal): Promise<{ bytes: Buffer; wireSize: number }> {
  const max = limits.maxResponseBytes
  const declared = Number(res.headers['content-length'] ?? NaN)
  if (declared > max && !res.headers['content-encoding']) {
    res.destroy()
    return Promise.reject(new ProxyError('TOO_LARGE', `the response is ${mib(declared)}, more than the demo's limit of ${mib(max)}: not read`))
  }
  if (method === 'HEAD') {
    res.resume()
    return Promise.resolve({ bytes: Buffer.alloc(0), wireSize: 0 })
  }
  return new Promise((resolve, reject) => {
    const decoder = decoderFor(res.headers['content-encoding'])
    const stream: Readable = decoder ? res.pipe(decoder) : res
    const chunks: Buffer[] = []
    let size = 0
    let wireSize = 0
    let settled = false
    const fail = (err: ProxyError) => {
      if (settled) return
      settled = true
      signal.removeEventListener('abort', onAbort)
      res.destroy()
      decoder?.destroy()
      reject(err)
    }
    const onAbort = () => fail(upstreamError(new Error('aborted'), url, signal, limits.timeout))
    signal.addEventListener('abort', onAbort, { once: true })
    res.on('data', (chunk: Buffer) => (wireSize += chunk.byteLength))
    stream.on('data', (chunk: Buffer) => {
      size += chunk.byteLength
      if (size > max) return fail(new ProxyError('TOO_LARGE', `the response is larger than the demo's limit of ${mib(max)}: stopped reading after ${mib(max)}`))
      chunks.push(chunk)
    })
    stream.once('end', () => {
      if (settled) return
      settled = true
      signal.removeEventListener('abort', onAbort)
      resolve({ bytes: Buffer.concat(chunks), wireSize })
    })
    res.once('error', (err) => fail(new ProxyError('UPSTREAM_ERROR', `the response from ${url.host} broke off: ${err.message}`)))
    decoder?.once('error', (err) => fail(new ProxyError('UPSTREAM_ERROR', `the response body could not be decoded (${String(res.headers['content-encoding'])}): ${err.message}`)))
    res.once('close', () => {
      if (!res.complete) fail(new ProxyError('UPSTREAM_ERROR', `${url.host} closed the connection in the middle of the response`))
    })
  })
}
