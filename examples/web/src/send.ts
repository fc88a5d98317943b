/**
 * From a request as the editor holds it to bytes on the wire and back: `{{variables}}` and path variables
 * filled in, the effective auth (inherited from folders and the collection) applied as Postman applies the
 * common types, the body encoded for its mode; then sent through the demo server's proxy (proxy.ts), which
 * answers with the API's status, headers, timing and body.
 */
import type { Auth, CollectionModel, Json, JsonObject, RequestSnapshot } from '@apisync/model'
import type { App } from './app.js'
import { META_HEADER, PROXY_PATH, type ProxyErrorBody, type ProxyErrorCode, type ProxyRequest, type ProxyResponseMeta } from './proxy-protocol.js'
import type { VariableContext } from './variables-in-use.js'

export type Pairs = readonly (readonly [string, string])[]

/** A request as a script sees it before sending: `{{variables}}` still in (Postman shows them so). */
export interface RequestTemplate {
  readonly method: string
  readonly url: string
  readonly headers: Pairs
  readonly body: string
}

export interface BuiltRequest {
  readonly method: string
  readonly url: string
  /** The URL with secret values masked, to show. */
  readonly displayUrl: string
  readonly headers: Pairs
  readonly body: Uint8Array | null
  /** What the demo could not do as Postman would (an auth type it does not apply, a file it cannot read). */
  readonly warnings: readonly string[]
}

export interface SentResponse {
  readonly meta: ProxyResponseMeta
  readonly body: Uint8Array
  /** The body decoded as UTF-8 (replacement characters where it is not text). */
  readonly text: string
}

export interface SendFailure {
  readonly code: ProxyErrorCode | 'NOT_SIGNED_IN' | 'NETWORK' | 'BAD_INPUT' | 'CANCELLED'
  readonly message: string
}

export type SendOutcome = { readonly ok: true; readonly response: SentResponse } | { readonly ok: false; readonly failure: SendFailure }

export class BuildError extends Error {
  override readonly name = 'BuildError'
}

// ------------------------------------------------------------------------------------------------ template

/** Enabled headers with a name, in order, unresolved. */
export const templateOf = (req: RequestSnapshot): RequestTemplate => ({
  method: req.method,
  url: req.url.raw,
  headers: req.headers.filter((h) => h.enabled && h.key.trim() !== '').map((h) => [h.key, h.value] as const),
  body: req.body.mode === 'raw' ? req.body.raw : req.body.mode === 'graphql' ? req.body.graphql.query : '',
})

// ------------------------------------------------------------------------------------------------ auth

/** The auth that applies to a request: its own, else the nearest folder's, else the collection's. */
export function effectiveAuth(model: CollectionModel, requestId: string): { readonly auth: Auth; readonly from: string } {
  const own = model.get(requestId)
  if (own && own.auth !== null) return { auth: own.auth, from: 'this request' }
  for (let p = model.parentId(requestId); p; p = model.parentId(p)) {
    const folder = model.get(p)
    if (folder && folder.auth !== null) return { auth: folder.auth, from: `folder “${folder.name}”` }
  }
  return { auth: model.snapshot().auth, from: 'the collection' }
}

/** Auth params as Postman keeps them: a list of `{ key, value }` (v2.1) or an object (v2.0). */
export function authParam(auth: JsonObject, type: string, key: string): string | undefined {
  const raw = auth[type]
  let v: Json | undefined
  if (Array.isArray(raw)) v = (raw.find((p) => (p as JsonObject | null)?.key === key) as JsonObject | undefined)?.value
  else if (raw && typeof raw === 'object') v = (raw as JsonObject)[key]
  return v === undefined || v === null ? undefined : typeof v === 'string' ? v : JSON.stringify(v)
}

const utf8 = new TextEncoder()
const base64 = (bytes: Uint8Array): string => {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s)
}

interface AuthApplied {
  readonly headers: [string, string][]
  readonly query: [string, string][]
  readonly warning?: string
}

function applyAuth(auth: Auth, vars: VariableContext): AuthApplied {
  const none: AuthApplied = { headers: [], query: [] }
  if (!auth) return none
  const type = String(auth.type ?? 'noauth')
  const p = (key: string) => vars.substitute(authParam(auth, type, key) ?? '')
  switch (type) {
    case 'noauth':
      return none
    case 'basic':
      return { headers: [['Authorization', `Basic ${base64(utf8.encode(`${p('username')}:${p('password')}`))}`]], query: [] }
    case 'bearer':
      return { headers: [['Authorization', `Bearer ${p('token')}`]], query: [] }
    case 'apikey': {
      const key = p('key')
      if (!key) return { ...none, warning: 'API key auth has no key name: nothing added' }
      return authParam(auth, type, 'in') === 'query' ? { headers: [], query: [[key, p('value')]] } : { headers: [[key, p('value')]], query: [] }
    }
    case 'oauth2': {
      const token = p('accessToken')
      if (!token) return { ...none, warning: 'OAuth 2.0 auth has no access token: get one in Postman, or use Bearer' }
      if (authParam(auth, type, 'addTokenTo') === 'queryParams') return { headers: [], query: [['access_token', token]] }
      return { headers: [['Authorization', `${p('headerPrefix') || 'Bearer'} ${token}`]], query: [] }
    }
    default:
      return { ...none, warning: `${type} auth is not applied by this demo (basic, bearer, API key and OAuth 2.0 tokens are): sent without it` }
  }
}

// ------------------------------------------------------------------------------------------------ build

const CONTENT_TYPES: Record<string, string> = {
  json: 'application/json',
  javascript: 'application/javascript',
  html: 'text/html',
  xml: 'application/xml',
  text: 'text/plain',
}

/** Fills `/:name` path segments from the request's path variables (values may hold `{{variables}}`). */
function fillPathVariables(url: string, req: RequestSnapshot, vars: VariableContext): string {
  if (req.url.variables.length === 0) return url
  const values = new Map(req.url.variables.map((v) => [v.key, vars.substitute(v.value)]))
  const cut = url.search(/[?#]/)
  const path = cut < 0 ? url : url.slice(0, cut)
  const rest = cut < 0 ? '' : url.slice(cut)
  return path.replace(/(?<=\/):([A-Za-z0-9_-]+)/g, (whole, name: string) => (values.has(name) && values.get(name) !== '' ? encodeURIComponent(values.get(name)!) : whole)) + rest
}

const withQuery = (url: string, extra: readonly [string, string][]): string => {
  if (extra.length === 0) return url
  const hash = url.indexOf('#')
  const base = hash < 0 ? url : url.slice(0, hash)
  const q = extra.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')
  return `${base}${base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?'}${q}${hash < 0 ? '' : url.slice(hash)}`
}

/**
 * The request as it goes out: variables resolved, auth applied, body encoded. `headers` replaces the request's
 * own (a pre-request script may have changed them); they are templates too. Throws BuildError for input that
 * cannot be sent (GraphQL variables that are not JSON).
 */
export async function buildRequest(model: CollectionModel, req: RequestSnapshot, vars: VariableContext, headers: Pairs = templateOf(req).headers): Promise<BuiltRequest> {
  const warnings: string[] = []
  const { auth } = effectiveAuth(model, req.id)
  const applied = applyAuth(auth, vars)
  if (applied.warning) warnings.push(applied.warning)
  const template = fillPathVariables(req.url.raw, req, vars)
  const url = withQuery(vars.substitute(template), applied.query)
  const displayUrl = withQuery(vars.display(template), applied.query.map(([k]) => [k, '••••••']))
  const out: [string, string][] = headers.map(([k, v]) => [vars.substitute(k), vars.substitute(v)])
  // The auth's header replaces one of the same name the request sets itself.
  for (const [k, v] of applied.headers) {
    for (let i = out.length - 1; i >= 0; i--) if (out[i]![0].toLowerCase() === k.toLowerCase()) out.splice(i, 1)
    out.push([k, v])
  }
  const has = (name: string) => out.some(([k]) => k.toLowerCase() === name)
  const contentType = (ct: string) => {
    if (!has('content-type')) out.push(['Content-Type', ct])
  }
  let body: Uint8Array | null = null
  const b = req.body
  switch (b.mode) {
    case null:
    case 'none':
      break
    case 'raw':
      body = utf8.encode(vars.substitute(b.raw))
      if (b.raw !== '') contentType(CONTENT_TYPES[b.language || 'text'] ?? 'text/plain')
      break
    case 'urlencoded': {
      const form = new URLSearchParams()
      for (const r of b.urlencoded) if (r.enabled && r.key !== '') form.append(vars.substitute(r.key), vars.substitute(r.value))
      body = utf8.encode(form.toString())
      contentType('application/x-www-form-urlencoded')
      break
    }
    case 'formdata': {
      const form = new FormData()
      for (const r of b.formdata) {
        if (!r.enabled || r.key === '') continue
        if (r.type === 'file') {
          const src = typeof r.src === 'string' ? r.src : Array.isArray(r.src) ? String(r.src[0] ?? '') : ''
          warnings.push(`the browser cannot read ${src || 'the file'} of form field ${r.key}: sent as an empty file`)
          form.append(vars.substitute(r.key), new Blob([]), src.split(/[\\/]/).pop() || 'file')
        } else if (r.contentType) form.append(vars.substitute(r.key), new Blob([vars.substitute(r.value)], { type: r.contentType }))
        else form.append(vars.substitute(r.key), vars.substitute(r.value))
      }
      // The browser's own multipart encoder, with its boundary.
      const encoded = new Request('http://multipart.invalid/', { method: 'POST', body: form })
      body = new Uint8Array(await encoded.arrayBuffer())
      for (let i = out.length - 1; i >= 0; i--) if (out[i]![0].toLowerCase() === 'content-type') out.splice(i, 1)
      out.push(['Content-Type', encoded.headers.get('content-type') ?? 'multipart/form-data'])
      break
    }
    case 'graphql': {
      const text = vars.substitute(b.graphql.variables).trim()
      let variables: unknown = {}
      if (text !== '') {
        try {
          variables = JSON.parse(text)
        } catch (e) {
          throw new BuildError(`the GraphQL variables are not valid JSON: ${e instanceof Error ? e.message : String(e)}`)
        }
      }
      const payload: Record<string, unknown> = { query: vars.substitute(b.graphql.query), variables }
      if (b.graphql.operationName) payload.operationName = b.graphql.operationName
      body = utf8.encode(JSON.stringify(payload))
      contentType('application/json')
      break
    }
    case 'file':
      warnings.push('the browser cannot read a file body from a path: sent without a body')
      break
    default:
      warnings.push(`body mode ${b.mode} is not sent by this demo`)
  }
  const missing = new Set<string>()
  for (const text of [url, ...out.flat()]) for (const m of text.matchAll(/\{\{([^{}]+)\}\}/g)) missing.add(m[1]!)
  if (missing.size > 0) warnings.push(`unresolved: ${[...missing].map((m) => `{{${m}}}`).join(', ')}${vars.environmentName ? '' : ' (no environment is selected)'}`)
  return { method: req.method || 'GET', url, displayUrl, headers: out, body, warnings }
}

// ------------------------------------------------------------------------------------------------ proxy

export interface SendOptions {
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
}

/** Sends a built request through the demo server's proxy with this device's session. */
export async function sendThroughProxy(app: App, built: BuiltRequest, options: SendOptions = {}): Promise<SendOutcome> {
  const account = app.account
  const profile = app.profile
  if (!account || !profile) return { ok: false, failure: { code: 'NOT_SIGNED_IN', message: 'sign in to send requests: the demo server only sends them for a signed-in session' } }
  const envelope: ProxyRequest = {
    method: built.method,
    url: built.url,
    headers: built.headers,
    ...(built.body && built.body.byteLength > 0 ? { body: base64(built.body) } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  }
  const payload = JSON.stringify(envelope)
  const post = async (token: string) =>
    fetch(new URL(PROXY_PATH.slice(1), document.baseURI), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: payload,
      credentials: 'omit',
      ...(options.signal ? { signal: options.signal } : {}),
    })
  let res: Response
  try {
    res = await post(await app.auth.token(account.id))
    // An expired token: one fresh one, as the sync client does.
    if (res.status === 401) res = await post(await app.auth.tokenFor(profile))
  } catch (e) {
    if (options.signal?.aborted) return { ok: false, failure: { code: 'CANCELLED', message: 'cancelled' } }
    return { ok: false, failure: { code: 'NETWORK', message: `the demo server did not answer (${e instanceof Error ? e.message : String(e)}): is it running?` } }
  }
  const metaHeader = res.headers.get(META_HEADER)
  if (!metaHeader) {
    const error = (await res.json().catch(() => null)) as ProxyErrorBody | null
    return { ok: false, failure: error?.error ? { code: error.error, message: error.message } : { code: 'NETWORK', message: `the demo server answered ${res.status} ${res.statusText}` } }
  }
  const meta = JSON.parse(decodeURIComponent(metaHeader)) as ProxyResponseMeta
  const body = new Uint8Array(await res.arrayBuffer())
  return { ok: true, response: { meta, body, text: new TextDecoder('utf-8', { fatal: false }).decode(body) } }
}

/** A response header's value (the last of that name). */
export const headerOf = (headers: Pairs, name: string): string | undefined => {
  const n = name.toLowerCase()
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0].toLowerCase() === n) return headers[i]![1]
  return undefined
}
