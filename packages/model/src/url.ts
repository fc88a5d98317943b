/**
 * The URL a user types and the parts they edit in tables stay in step: setting the raw URL updates the
 * enabled query rows and the path variables; editing a query row rewrites the raw URL's query string.
 * Values are kept as typed (not percent-decoded), as Postman does.
 */
export interface QueryPair {
  readonly key: string
  readonly value: string
}

const splitRaw = (raw: string) => {
  const hashAt = raw.indexOf('#')
  const hash = hashAt >= 0 ? raw.slice(hashAt) : ''
  const noHash = hashAt >= 0 ? raw.slice(0, hashAt) : raw
  const q = noHash.indexOf('?')
  return { base: q >= 0 ? noHash.slice(0, q) : noHash, query: q >= 0 ? noHash.slice(q + 1) : undefined, hash }
}

export const parseQuery = (raw: string): QueryPair[] => {
  const { query } = splitRaw(raw)
  if (query === undefined || query === '') return []
  return query.split('&').map((part) => {
    const eq = part.indexOf('=')
    return eq >= 0 ? { key: part.slice(0, eq), value: part.slice(eq + 1) } : { key: part, value: '' }
  })
}

export const withQuery = (raw: string, pairs: readonly QueryPair[]): string => {
  const { base, hash } = splitRaw(raw)
  const query = pairs.map((p) => (p.value === '' ? p.key : `${p.key}=${p.value}`)).join('&')
  return `${base}${pairs.length ? `?${query}` : ''}${hash}`
}

/** Names of `:name` path segments, in order, without duplicates. */
export const pathVariableNames = (raw: string): string[] => {
  const { base } = splitRaw(raw)
  const path = base.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '')
  const names: string[] = []
  for (const seg of path.split('/')) {
    if (seg.length > 1 && seg.startsWith(':') && !names.includes(seg.slice(1))) names.push(seg.slice(1))
  }
  return names
}
