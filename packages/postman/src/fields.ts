/** Fields for scalar Postman keys: strings, flags, opaque JSON. */
import { at, expected } from './errors.js'
import { type Json, type JsonObject, has, isObject } from './json.js'
import type { Field } from './shape.js'

/** The value of an own key (never an inherited one such as `constructor`). */
export const own = (src: JsonObject, key: string): Json | undefined => (has(src, key) ? src[key] : undefined)

export interface StringOptions {
  /** `null` reads as the empty string (query keys and values may be null). */
  readonly nullable?: boolean
  /** Written even when empty (the exporter's default form always has it). */
  readonly always?: boolean
  /** The value when the key is absent. */
  readonly fallback?: string
}

export const str = (key: string, options: StringOptions = {}): Field<string> => {
  const { nullable = false, always = false, fallback = '' } = options
  return {
    keys: [key],
    read(src, path) {
      const v = own(src, key)
      if (v === undefined) return { value: fallback }
      if (typeof v === 'string') return { value: v }
      if (v === null && nullable) return { value: '' }
      return expected(nullable ? 'a string or null' : 'a string', at(path, key), v)
    },
    write(out, value) {
      if (always || value !== '') out[key] = value
    },
  }
}

/** Like `str`, for values the model keeps as strings but Postman allows of any type: others are kept as they are. */
export const looseString = (key: string, options: { readonly always?: boolean } = {}): Field<string> => ({
  keys: [key],
  read(src) {
    const v = own(src, key)
    return { value: typeof v === 'string' ? v : '' }
  },
  write(out, value) {
    if (options.always || value !== '') out[key] = value
  },
})

/** A row's `disabled` flag, as the model's `enabled`. */
export const disabled: Field<boolean> = {
  keys: ['disabled'],
  read(src, path) {
    const v = own(src, 'disabled')
    if (v === undefined) return { value: true }
    if (typeof v === 'boolean') return { value: !v }
    return expected('a boolean', at(path, 'disabled'), v)
  },
  write(out, value) {
    if (!value) out.disabled = true
  },
}

/**
 * Variables say `enabled` (environments) or `disabled` (collections), sometimes both: enabled unless either
 * says otherwise. Written the way the file kind writes it.
 */
export const enabled = (written: 'enabled' | 'disabled'): Field<boolean> => ({
  keys: ['enabled', 'disabled'],
  read(src, path) {
    const e = own(src, 'enabled')
    const d = own(src, 'disabled')
    if (e !== undefined && typeof e !== 'boolean') expected('a boolean', at(path, 'enabled'), e)
    if (d !== undefined && typeof d !== 'boolean') expected('a boolean', at(path, 'disabled'), d)
    return { value: e !== false && d !== true }
  },
  write(out, value) {
    if (written === 'enabled') out.enabled = value
    else if (!value) out.disabled = true
  },
})

/** Any JSON value, kept as it is; `fallback` when absent, not written when `omit(value)`. */
export const anyJson = (key: string, fallback: Json = null, omit: (v: Json) => boolean = (v) => v === null): Field<Json> => ({
  keys: [key],
  read(src) {
    const v = own(src, key)
    return { value: v === undefined ? fallback : v }
  },
  write(out, value) {
    if (!omit(value)) out[key] = value
  },
})

/** A JSON object or absent (the model's null). */
export const objectOrNull = (key: string): Field<JsonObject | null> => ({
  keys: [key],
  read(src, path) {
    const v = own(src, key)
    if (v === undefined) return { value: null }
    if (isObject(v)) return { value: v }
    return expected('an object', at(path, key), v)
  },
  write(out, value) {
    if (value !== null) out[key] = value
  },
})
