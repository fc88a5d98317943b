/**
 * URLs as text, split and built the way Postman does (postman-url-encoder's parser, postman-collection's
 * QueryParam), so that what the model shows is what Postman and newman read.
 *
 * A URL is four parts: the origin (protocol, auth, host, port, as typed: `https://api.test:8443`, `{{base}}`),
 * the path (from its first `/`), the query pairs and the hash. `{{variables}}` are never split, whatever
 * they hold (`?a={{x#y}}` is one pair). The raw URL a person typed is kept as formatting while it still
 * parses to exactly the parts; once the parts change (a row edited, a concurrent edit merged), it is rebuilt
 * from them, reusing each piece of the typed text that still reads the same.
 */

export interface QueryPair {
  readonly key: string
  readonly value: string
}

/** A URL's parts. `hash` is null when there is no `#`. */
export interface UrlParts {
  readonly origin: string
  readonly path: string
  readonly query: readonly QueryPair[]
  readonly hash: string | null
}

/** The text pieces of a raw URL: `origin + path + ('?' + query) + ('#' + hash)` is the raw URL again. */
export interface UrlText {
  readonly origin: string
  readonly path: string
  /** The text after `?`, undefined when there is no `?`. */
  readonly query: string | undefined
  readonly hash: string | undefined
}

const VARIABLE = /{{[^{}]*}}/g

/** The string with every `{{variable}}` masked (same length), so separators inside variables are not seen. */
const mask = (s: string): string => {
  if (!s.includes('{{')) return s
  VARIABLE.lastIndex = 0
  return s.replace(VARIABLE, (v) => '_'.repeat(v.length))
}

export const splitUrl = (raw: string): UrlText => {
  const m = mask(raw)
  let end = m.length
  let hash: string | undefined
  let query: string | undefined
  const hashAt = m.indexOf('#')
  if (hashAt !== -1) {
    hash = raw.slice(hashAt + 1)
    end = hashAt
  }
  const queryAt = m.indexOf('?')
  if (queryAt !== -1 && queryAt < end) {
    query = raw.slice(queryAt + 1, end)
    end = queryAt
  }
  // Backslashes read as slashes for the protocol and the path, as in Postman.
  const head = m.slice(0, end).replace(/\\/g, '/')
  // Postman trims leading whitespace before parsing: a protocol starts after it.
  let from = head.length - head.trimStart().length
  const protocolAt = head.indexOf('://', from)
  if (protocolAt !== -1) {
    const isFile = head.slice(from, protocolAt).trim().toLowerCase() === 'file'
    from = protocolAt + 3
    let slashes = from
    while (head[slashes] === '/') slashes++
    // `file:///path` keeps one slash, which starts the path; `http:///host` has none.
    from = isFile && slashes > from ? slashes - 1 : slashes
  }
  const pathAt = head.indexOf('/', from)
  return pathAt === -1
    ? { origin: raw.slice(0, end), path: '', query, hash }
    : { origin: raw.slice(0, pathAt), path: raw.slice(pathAt, end), query, hash }
}

/** The query pairs of a query string, as Postman's parser gives them (a missing value reads as ''). */
export const parseQueryString = (query: string | undefined): QueryPair[] => {
  if (query === undefined) return []
  const m = mask(query)
  const out: QueryPair[] = []
  let start = 0
  for (;;) {
    const amp = m.indexOf('&', start)
    const part = query.slice(start, amp === -1 ? undefined : amp)
    // Postman splits at the first `=` of the pair, variables or not.
    const eq = part.indexOf('=')
    out.push(eq === -1 ? { key: part, value: '' } : { key: part.slice(0, eq), value: part.slice(eq + 1) })
    if (amp === -1) return out
    start = amp + 1
  }
}

/** The query text of each pair of a query string, in order (for reusing typed formatting). */
const pairTexts = (query: string | undefined): string[] => {
  if (query === undefined) return []
  const m = mask(query)
  const out: string[] = []
  let start = 0
  for (;;) {
    const amp = m.indexOf('&', start)
    out.push(query.slice(start, amp === -1 ? undefined : amp))
    if (amp === -1) return out
    start = amp + 1
  }
}

export const parseUrl = (raw: string): UrlParts => {
  const t = splitUrl(raw)
  return { origin: t.origin, path: t.path, query: parseQueryString(t.query), hash: t.hash ?? null }
}

/** The path's segments (after its leading `/`), as Postman splits them (`{{variables}}` are not split). */
export const pathSegments = (path: string): string[] => {
  if (path === '') return []
  const m = mask(path).replace(/\\/g, '/')
  const out: string[] = []
  let start = 1
  for (;;) {
    const slash = m.indexOf('/', start)
    out.push(path.slice(start, slash === -1 ? undefined : slash))
    if (slash === -1) return out
    start = slash + 1
  }
}

/** A path segment's variable name, as Postman reads it: `:id` and `:id.json` are `id`; `:` alone is none. */
export const segmentVariable = (segment: string): string | undefined => {
  if (!segment.startsWith(':')) return undefined
  const dot = segment.indexOf('.')
  const name = segment.slice(1, dot === -1 ? undefined : dot)
  return name === '' ? undefined : name
}

/** Path variable names of a path, in order, without duplicates. */
export const pathVariableNames = (path: string): string[] => {
  if (!path.includes(':')) return []
  const names: string[] = []
  for (const seg of pathSegments(path)) {
    const name = segmentVariable(seg)
    if (name !== undefined && !names.includes(name)) names.push(name)
  }
  return names
}

/** A name a path variable can have: one that reads back from `/:name` (no separator, no `.`). */
export const isPathVariableName = (name: string): boolean => name !== '' && !/[/\\?#.{}]/.test(name) && name.trim() === name

/** The path with every `:from` segment (and `:from.ext`) renamed to `:to`. */
export const renamePathVariable = (path: string, from: string, to: string): string => rewriteSegments(path, (seg) => (segmentVariable(seg) === from ? `:${to}${seg.slice(1 + from.length)}` : seg))

/** The path without its `:name` segments. */
export const removePathVariable = (path: string, name: string): string => rewriteSegments(path, (seg) => (segmentVariable(seg) === name ? undefined : seg))

const rewriteSegments = (path: string, f: (segment: string) => string | undefined): string => {
  if (path === '') return path
  const segs = pathSegments(path)
  const kept = segs.map(f).filter((s): s is string => s !== undefined)
  return kept.length === 0 ? '' : `/${kept.join('/')}`
}

// ------------------------------------------------------------------------------------------------ building

/** Postman's QueryParam encoding: `&` and `#` (and `=` in keys) outside `{{variables}}` are percent-encoded. */
const encodeReserved = (s: string, equals: boolean): string => {
  if (!/[&#]/.test(s) && !(equals && s.includes('='))) return s
  let out = ''
  let at = 0
  const re = /{{[^{}]*}}/g
  const enc = (x: string) => {
    let r = x.replace(/&/g, '%26').replace(/#/g, '%23')
    if (equals) r = r.replace(/=/g, '%3D')
    return r
  }
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    out += enc(s.slice(at, m.index)) + m[0]
    at = m.index + m[0].length
  }
  return out + enc(s.slice(at))
}

export const encodeQueryKey = (key: string): string => encodeReserved(key, true)
export const encodeQueryValue = (value: string): string => encodeReserved(value, false)

/** A pair as Postman writes it; an empty value is written without `=` (`?flag`). */
export const pairText = (p: QueryPair): string => (p.value === '' ? encodeQueryKey(p.key) : `${encodeQueryKey(p.key)}=${encodeQueryValue(p.value)}`)

/**
 * The raw URL of `parts`: `typed` itself while it parses to exactly these parts, else the parts written out,
 * reusing the typed text of every piece that still reads the same (so `?a=` stays `?a=`).
 */
export const buildUrl = (parts: UrlParts, typed?: string): string => {
  let texts: UrlText | undefined
  if (typed !== undefined) {
    texts = splitUrl(typed)
    if (texts.origin === parts.origin && texts.path === parts.path && (texts.hash ?? null) === parts.hash) {
      const pairs = parseQueryString(texts.query)
      if (pairs.length === parts.query.length && pairs.every((p, i) => p.key === parts.query[i]!.key && p.value === parts.query[i]!.value)) return typed
    }
  }
  // Typed pair texts by what they read as, to reuse in order.
  const reusable = new Map<string, string[]>()
  for (const text of pairTexts(texts?.query)) {
    const [p] = parseQueryString(text)
    const k = `${p!.key}\u0000${p!.value}`
    const list = reusable.get(k)
    if (list) list.push(text)
    else reusable.set(k, [text])
  }
  const pairs = parts.query.map((p) => reusable.get(`${p.key}\u0000${p.value}`)?.shift() ?? pairText(p))
  return `${parts.origin}${parts.path}${parts.query.length ? `?${pairs.join('&')}` : ''}${parts.hash !== null ? `#${parts.hash}` : ''}`
}
