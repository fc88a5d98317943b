/** JSON values: what registers hold and what crosses the wire inside Yjs content. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json }
export type JsonObject = { readonly [key: string]: Json }

export const isJson = (value: unknown, depth = 0): value is Json => {
  if (depth > 64) return false
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true
  if (typeof value === 'number') return Number.isFinite(value)
  if (Array.isArray(value)) return value.every((v) => isJson(v, depth + 1))
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) return false
    // Yjs decodes a `__proto__` key as the prototype on other replicas: refuse it rather than corrupt them.
    if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return false
    return Object.values(value as object).every((v) => isJson(v, depth + 1))
  }
  return false
}

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && isJson(value)

export const jsonEqual = (a: Json | undefined, b: Json | undefined): boolean => {
  if (a === b) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const ak = Object.keys(a)
  const bo = b as JsonObject
  if (ak.length !== Object.keys(bo).length) return false
  for (const k of ak) if (!(k in bo) || !jsonEqual((a as JsonObject)[k], bo[k])) return false
  return true
}
