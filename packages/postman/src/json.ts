/** Plain JSON helpers: Postman files are JSON, and so is everything kept in the model's `extra` registers. */
import type { Json, JsonObject } from '@apisync/model'

export type { Json, JsonObject }
/** An object being built for export. */
export type Out = Record<string, Json>

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)

export const has = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key)

/** Sets an own property, even `__proto__` (which plain assignment would turn into a prototype change). */
export const setOwn = (o: Out, key: string, value: Json): void => {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true })
  else o[key] = value
}

/** Copies every own entry of `from` into `to`. */
export const assignOwn = (to: Out, from: JsonObject): void => {
  for (const key in from) if (has(from, key)) setOwn(to, key, from[key] as Json)
}

/** The own entries of `o` whose keys are not in `omit`. */
export const omitKeys = (o: JsonObject, omit: ReadonlySet<string>): Out => {
  const out: Out = {}
  for (const key in o) if (has(o, key) && !omit.has(key)) setOwn(out, key, o[key] as Json)
  return out
}

/** Deep equality of JSON values; object key order does not matter. */
export const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const ao = a as Record<string, unknown>
  const bo = b as Record<string, unknown>
  let count = 0
  for (const key in ao) {
    if (!has(ao, key)) continue
    if (!has(bo, key) || !jsonEqual(ao[key], bo[key])) return false
    count++
  }
  for (const key in bo) if (has(bo, key)) count--
  return count === 0
}
