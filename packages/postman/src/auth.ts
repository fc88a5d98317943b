/**
 * Auth, of any type (unknown ones included): `{ type, [type]: params }`. Collection v2.1 writes params as
 * `[{ key, value, type }]`, v2.0 as `{ key: value }`; the model always holds the v2.1 form, and which params
 * came as objects is kept so that they are written back as objects, unless converting to the other format.
 */
import { at, expected } from './errors.js'
import { own } from './fields.js'
import { type Json, type JsonObject, type Out, has, isObject, setOwn } from './json.js'
import type { Context, Field } from './shape.js'

const typeOf = (v: Json): string =>
  typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'boolean' : typeof v === 'number' ? 'number' : 'any'

/** v2.0 params → v2.1 (as postman-collection-transformer converts them). */
const toArray = (params: JsonObject): Json[] => {
  const out: Json[] = []
  for (const key in params) if (has(params, key)) out.push({ key, value: params[key] as Json, type: typeOf(params[key] as Json) })
  return out
}

/**
 * v2.1 params → v2.0; undefined when they do not fit an object (duplicate keys, extra fields). `exact`: only
 * params exactly as `toArray` makes them, so that nothing is lost.
 */
const toObject = (params: readonly Json[], exact: boolean): Out | undefined => {
  const out: Out = {}
  for (const p of params) {
    if (!isObject(p) || typeof p.key !== 'string' || has(out, p.key)) return undefined
    const value = has(p, 'value') ? (p.value as Json) : null
    if (exact && (!has(p, 'value') || p.type !== typeOf(value) || Object.keys(p).length !== 3)) return undefined
    setOwn(out, p.key, value)
  }
  return out
}

type Style = 'objects' | 'arrays' | readonly Json[]

const styled = (auth: JsonObject, style: Style): JsonObject => {
  if (style === 'arrays') return auth
  let out: Out | undefined
  for (const key in auth) {
    const params = auth[key]
    if (key === 'type' || !Array.isArray(params) || (style !== 'objects' && !style.includes(key))) continue
    const o = toObject(params, style !== 'objects')
    if (!o) continue
    out ??= { ...auth }
    setOwn(out, key, o)
  }
  return out ?? auth
}

/** Auth params as objects in a v2.0 file's auth, converted into the model's v2.1 form. */
export const normalizeAuth = (v: JsonObject): { auth: JsonObject; objects?: string[] } => {
  let objects: string[] | undefined
  let out: Out | undefined
  for (const key in v) {
    const params = v[key]
    if (key === 'type' || !isObject(params)) continue
    out ??= { ...v }
    setOwn(out, key, toArray(params))
    ;(objects ??= []).push(key)
  }
  return out ? { auth: out, objects: objects! } : { auth: v }
}

/** Writes an auth for the target format: as it came, or converted. */
export const authFor = (auth: JsonObject, objects: Json | undefined, cx: Context): JsonObject =>
  styled(auth, cx.convertTo === '2.0.0' ? 'objects' : cx.convertTo === '2.1.0' ? 'arrays' : Array.isArray(objects) ? objects : 'arrays')

export const auth = (key = 'auth'): Field<JsonObject | null> => ({
  keys: [key],
  read(src, path) {
    const v = own(src, key)
    if (v === undefined || v === null) return { value: null }
    if (!isObject(v)) return expected('an auth object', at(path, key), v)
    const type = own(v, 'type')
    if (typeof type !== 'string') expected('a string', at(at(path, key), 'type'), type)
    const { auth, objects } = normalizeAuth(v)
    return objects ? { value: auth, form: { objects } } : { value: auth }
  },
  write(out, value, form, cx) {
    if (value !== null) out[key] = authFor(value, isObject(form) ? form.objects : undefined, cx)
  },
})

/** Converts the auth inside an opaque request (a saved response's `originalRequest`) to the target format. */
export const convertRequestAuth = (request: Json, cx: Context): Json => {
  if (!cx.convertTo || !isObject(request) || !isObject(request.auth)) return request
  const a = cx.convertTo === '2.1.0' ? normalizeAuth(request.auth).auth : authFor(request.auth, undefined, cx)
  return a === request.auth ? request : { ...request, auth: a }
}
