/**
 * URLs. The model keeps the raw URL with its query rows and path variables; Postman files also carry the URL
 * split into parts (`protocol`, `host`, `path`…), which postman-collection and newman use instead of `raw`.
 * Parts that match what `parseUrl(raw)` gives are derived again on export; others are kept while `raw` is
 * unchanged, and derived from the new `raw` once it is edited.
 */
import { type KeyValue, type PathVariable, type Url, normalizeUrl, parseUrl as parseModelUrl, pathVariableNames } from '@apisync/model'
import { at, expected } from './errors.js'
import { own } from './fields.js'
import { type Json, type JsonObject, type Out, assignOwn, has, isObject, jsonEqual, setOwn } from './json.js'
import { list, pathVariableRow, queryRow } from './rows.js'
import { type Field, extraFor, objectCodec, shapeOf } from './shape.js'

// ------------------------------------------------------------------------- parsing (postman-url-encoder)

/** The parts of a URL string, as postman-url-encoder's parser splits it (`{{variables}}` are never split). */
export interface UrlParts {
  readonly protocol?: string
  readonly auth?: readonly string[]
  readonly host?: readonly string[]
  readonly port?: string
  readonly path?: readonly string[]
  readonly query?: readonly string[]
  readonly hash?: string
}

const VARIABLE = /{{[^{}]*}}/g

/** Puts `{{variables}}` back into parts split from the string where each was replaced by one character. */
class Replacements {
  private readonly list: { value: string; index: number }[] = []
  private offset = 0

  add(value: string, index: number): void {
    this.list.push({ value, index: index - this.offset })
    this.offset += value.length - 1
  }
  get count(): number {
    return this.list.length
  }
  private lower(index: number): number {
    let start = 0
    let end = this.list.length - 1
    while (start <= end) {
      const mid = (start + end) >> 1
      if (this.list[mid]!.index >= index) end = mid - 1
      else start = mid + 1
    }
    return start >= this.list.length ? -1 : start
  }
  applyString(input: string, begin: number, end: number): string {
    let i = input ? this.lower(begin) : -1
    if (i === -1) return input
    let offset = 0
    for (; i < this.list.length; i++) {
      const r = this.list[i]!
      if (r.index >= end) break
      const at = offset + r.index - begin
      input = input.slice(0, at) + r.value + input.slice(at + 1)
      offset += r.value.length - 1
    }
    return input
  }
  applyList(input: string[], begin: number): string[] {
    let b = begin
    return input.map((segment) => {
      const e = b + segment.length
      const out = this.applyString(segment, b, e)
      b = e + 1
      return out
    })
  }
}

export const parseUrl = (input: string): UrlParts => {
  if (!input) return {}
  let s = input.trimStart()
  const replacements = new Replacements()
  VARIABLE.lastIndex = 0
  if (VARIABLE.test(s)) {
    VARIABLE.lastIndex = 0
    s = s.replace(VARIABLE, (variable, index: number) => {
      replacements.add(variable, index)
      return '_'
    })
  }
  let pointer = 0
  let length = s.length
  let index: number
  const parts: { -readonly [K in keyof UrlParts]: UrlParts[K] } = {}
  const ranges: Partial<Record<keyof UrlParts, number>> = {}

  if ((index = s.indexOf('#')) !== -1) {
    parts.hash = s.slice(index + 1)
    ranges.hash = pointer + index + 1
    s = s.slice(0, (length = index))
  }
  if ((index = s.indexOf('?')) !== -1) {
    parts.query = s.slice(index + 1).split('&')
    ranges.query = pointer + index + 1
    s = s.slice(0, (length = index))
  }
  s = s.replace(/\\/g, '/')
  if ((index = s.indexOf('://')) !== -1) {
    parts.protocol = s.slice(0, index)
    ranges.protocol = pointer
    s = s.slice(index + 3)
    length -= index + 3
    pointer += index + 3
    const withSlashes = length
    s = s.replace(/^\/+/, parts.protocol.toLowerCase() === 'file' ? '/' : '')
    length = s.length
    pointer += withSlashes - length
  }
  if ((index = s.indexOf('/')) !== -1) {
    parts.path = s.slice(index + 1).split('/')
    ranges.path = pointer + index + 1
    s = s.slice(0, (length = index))
  }
  if ((index = s.lastIndexOf('@')) !== -1) {
    const auth = s.slice(0, index)
    ranges.auth = pointer
    s = s.slice(index + 1)
    length -= index + 1
    pointer += index + 1
    const colon = auth.indexOf(':')
    parts.auth = colon !== -1 ? [auth.slice(0, colon), auth.slice(colon + 1)] : [auth]
  }
  let port: string
  if ((index = s.lastIndexOf(':')) !== -1 && !(port = s.slice(index + 1)).includes(']')) {
    parts.port = port
    ranges.port = pointer + index + 1
    s = s.slice(0, (length = index))
  }
  if (s) {
    parts.host = s.split('.')
    ranges.host = pointer
  }
  if (replacements.count) {
    for (const key of ['protocol', 'auth', 'host', 'port', 'path', 'query', 'hash'] as const) {
      const v = parts[key]
      const begin = ranges[key]!
      if (!v || begin === undefined) continue
      // Lists (auth pair, host, path, query) were split on one-character separators.
      ;(parts as Record<string, unknown>)[key] =
        typeof v === 'string' ? replacements.applyString(v, begin, begin + v.length) : replacements.applyList([...v], begin)
    }
  }
  return parts
}

/** The parts Postman writes next to `raw` for a URL (query and path variables are rows of their own). */
export const partsOf = (raw: string): Out => {
  const p = parseUrl(raw)
  const out: Out = {}
  if (p.protocol !== undefined) out.protocol = p.protocol
  if (p.auth !== undefined) out.auth = p.auth.length > 1 ? { user: p.auth[0]!, password: p.auth[1]! } : { user: p.auth[0]! }
  if (p.host !== undefined) out.host = [...p.host]
  if (p.port !== undefined) out.port = p.port
  if (p.path !== undefined) out.path = [...p.path]
  if (p.hash !== undefined) out.hash = p.hash
  return out
}

/** A URL string from its parts, for URL objects that have no `raw`. */
export const unparseUrl = (url: JsonObject): string => {
  const str = (v: Json | undefined) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '')
  const segments = (v: Json | undefined, sep: string) =>
    Array.isArray(v) ? v.map((s) => (isObject(s) ? str(s.value) : str(s))).join(sep) : str(v)
  let out = ''
  const protocol = str(own(url, 'protocol'))
  if (protocol) out += protocol.endsWith('://') ? protocol : `${protocol}://`
  const auth = own(url, 'auth')
  if (isObject(auth) && (typeof auth.user === 'string' || typeof auth.password === 'string'))
    out += `${str(auth.user)}${typeof auth.password === 'string' ? `:${auth.password}` : ''}@`
  out += segments(own(url, 'host'), '.')
  const port = own(url, 'port')
  if (port !== undefined && port !== null) out += `:${str(port)}`
  const path = own(url, 'path')
  if (path !== undefined && path !== null) {
    const p = segments(path, '/')
    out += typeof path === 'string' && p.startsWith('/') ? p : `/${p}`
  }
  const query = own(url, 'query')
  if (Array.isArray(query)) {
    const pairs = query
      .filter((q) => isObject(q) && q.disabled !== true)
      .map((q) => {
        const o = q as JsonObject
        return o.value === null || o.value === undefined ? str(o.key) : `${str(o.key)}=${str(o.value)}`
      })
    if (pairs.length) out += `?${pairs.join('&')}`
  }
  const hash = own(url, 'hash')
  if (typeof hash === 'string') out += `#${hash}`
  return out
}

// ----------------------------------------------------------------- the model's view: query rows, path variables

/** Query rows from a raw URL, split as the model (and Postman) splits it (values kept as typed). */
export const queryRowsOf = (raw: string): KeyValue[] =>
  parseModelUrl(raw).query.map((p, i) => ({ id: String(i), key: p.key, value: p.value, enabled: true, description: '', extra: {} }))

/** Path variables (`:name` segments) of a raw URL, as the model (and Postman) finds them. */
export const pathVariablesOf = (raw: string): PathVariable[] =>
  pathVariableNames(parseModelUrl(raw).path).map((key, i) => ({ id: String(i), key, value: '', description: '', extra: {} }))

/** The model's URL for a URL given as a string. */
export const urlOfString = (raw: string): Url => ({ raw, query: queryRowsOf(raw), variables: pathVariablesOf(raw), extra: {} })

const EMPTY_URL: Url = Object.freeze({ raw: '', query: [], variables: [], extra: {} })
const isEmptyUrl = (u: Url) => u.raw === '' && u.query.length === 0 && u.variables.length === 0 && Object.keys(u.extra).length === 0

// --------------------------------------------------------------------------------------- the URL object

const PARTS = ['protocol', 'auth', 'host', 'port', 'path', 'hash'] as const

const rawOf = (src: JsonObject): string => {
  const raw = own(src, 'raw')
  return typeof raw === 'string' ? raw : unparseUrl(src)
}

interface UrlValues {
  readonly raw: string
  /** The parts follow the raw URL: this is the raw URL again. */
  readonly parts: string
  readonly query: readonly KeyValue[]
  readonly variable: readonly PathVariable[]
}

const urlObject = objectCodec<UrlValues>({
  raw: {
    keys: ['raw'],
    exact: true,
    read(src, path) {
      const raw = own(src, 'raw')
      if (raw === undefined) {
        const derived = unparseUrl(src)
        return { value: derived, form: { absent: derived } }
      }
      if (typeof raw !== 'string') return expected('a string', at(path, 'raw'), raw)
      return { value: raw }
    },
    write(out, value, form) {
      if (!(isObject(form) && form.absent === value)) out.raw = value
    },
  },
  parts: {
    keys: PARTS,
    exact: true,
    read(src) {
      const raw = rawOf(src)
      const original: Out = {}
      for (const k of PARTS) if (has(src, k)) setOwn(original, k, src[k] as Json)
      return jsonEqual(original, partsOf(raw)) ? { value: raw } : { value: raw, form: { raw, parts: original } }
    },
    write(out, raw, form) {
      if (isObject(form) && form.raw === raw && isObject(form.parts)) assignOwn(out, form.parts)
      else assignOwn(out, partsOf(raw))
    },
  },
  query: list('query', queryRow),
  variable: list('variable', pathVariableRow),
})

/**
 * A request's `url`: a string, an object, or absent. The model keeps a URL that means one thing: its raw text
 * built from its query rows, its path variables those of its path. A file whose parts disagree (a `raw` that
 * says one query, rows that say another; variables the path does not name) reads as the model will show it,
 * and its URL is written back exactly as it came until someone edits the URL.
 */
export const urlField: Field<Url> = {
  keys: ['url'],
  exact: true,
  read(src, path, cx) {
    const v = own(src, 'url')
    if (v === undefined) return { value: EMPTY_URL, form: 'absent' }
    if (typeof v === 'string') return { value: urlOfString(v), form: 'string' }
    if (!isObject(v)) return expected('a URL string or object', at(path, 'url'), v)
    const { values, shape } = urlObject.read(v, at(path, 'url'), cx)
    const value: Url = { raw: values.raw, query: values.query, variables: values.variable, extra: extraFor(shape) }
    const shown = normalizeUrl(value)
    return jsonEqual(shown as unknown as Json, value as unknown as Json) ? { value } : { value: shown, form: { original: v, shown: shown as unknown as Json } }
  },
  write(out, url, form, cx) {
    if (form === 'absent' && isEmptyUrl(url)) return
    if (form === 'string' && jsonEqual(urlOfString(url.raw), url)) {
      out.url = url.raw
      return
    }
    if (isObject(form) && form.original !== undefined && jsonEqual(form.shown, url as unknown as Json)) {
      out.url = form.original
      return
    }
    out.url = urlObject.write({ raw: url.raw, parts: url.raw, query: url.query, variable: url.variables }, shapeOf(url.extra), cx)
  },
}
