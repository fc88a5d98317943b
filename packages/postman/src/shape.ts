/**
 * Lossless decoding, field by field. A Postman object is read by a table of fields; each field owns some of
 * the object's keys, turns them into a model value, and writes them back from the (possibly edited) value.
 * Whatever the model cannot hold goes into the entity's `extra.postman` as a Shape:
 *
 * - `rest`: keys no field owns (unknown keys, `_postman_*`, `proxy`…), kept verbatim;
 * - `form`: how a field was written when that was not the exporter's default (a description given as an
 *   object, scripts with ids, a URL given as a string…), so the same form is written again around the value;
 * - `kept`: the original keys of a field whose form no rule reproduces exactly. They are written back as long
 *   as the model value still reads the same from them; once someone edits the value, the default form is used.
 *
 * Every field that is not `exact` is checked while importing: written back, it must give the input keys
 * exactly, or they are kept. So an import followed by an export gives back the input, whatever it held.
 */
import type { Path } from './errors.js'
import { type Json, type JsonObject, type Out, assignOwn, has, isObject, jsonEqual, setOwn } from './json.js'

export interface Shape {
  readonly rest?: JsonObject
  readonly form?: JsonObject
  readonly kept?: JsonObject
}

/**
 * What reading and writing need besides the data: the id of the entity at hand (saved responses derive theirs
 * from it) and, when writing, whether to convert to another collection format.
 */
export interface Context {
  readonly owner: string
  readonly convertTo?: '2.0.0' | '2.1.0'
}

export interface Read<M> {
  readonly value: M
  readonly form?: Json
}

export interface Field<M> {
  /** The Postman keys this field owns. */
  readonly keys: readonly string[]
  /** Reads (and validates) the owned keys of `src`. Must depend on the owned keys only, unless `exact`. */
  read(src: JsonObject, path: Path, cx: Context): Read<M>
  /** Writes the owned keys for `value`, following `form` when there is one. */
  write(out: Out, value: M, form: Json | undefined, cx: Context): void
  /** Write(read(x)) is x by construction (the field checks its parts itself): skip the import-time check. */
  readonly exact?: boolean
}

export type Fields<V> = { readonly [K in keyof V]: Field<V[K]> }

export interface ObjectCodec<V> {
  read(src: JsonObject, path: Path, cx: Context): { values: V; shape: Shape }
  write(values: V, shape: Shape | undefined, cx: Context): Out
}

/**
 * A codec for one kind of Postman object. `structural` keys are owned by the caller (a folder's `item`): they are
 * neither read nor kept in `rest`.
 */
export const objectCodec = <V>(fields: Fields<V>, structural: readonly string[] = []): ObjectCodec<V> => {
  const names = Object.keys(fields) as (keyof V & string)[]
  const list = names.map((name) => [name, fields[name] as unknown as Field<unknown>] as const)
  const owned = new Set<string>(structural)
  for (const [, f] of list) for (const k of f.keys) owned.add(k)

  return {
    read(src, path, cx) {
      const values = {} as Record<string, unknown>
      let form: Out | undefined
      let kept: Out | undefined
      for (const [name, f] of list) {
        const r = f.read(src, path, cx)
        values[name] = r.value
        if (f.exact) {
          if (r.form !== undefined) (form ??= {})[name] = r.form
          continue
        }
        // The default form first (the common case), then the field's own form, else keep the input keys.
        if (writesBack(f, src, r.value, undefined, cx)) continue
        if (r.form !== undefined && writesBack(f, src, r.value, r.form, cx)) {
          ;(form ??= {})[name] = r.form
          continue
        }
        ;(kept ??= {})[name] = pick(src, f.keys)
      }
      let rest: Out | undefined
      for (const key in src) {
        if (has(src, key) && !owned.has(key)) {
          rest ??= {}
          setOwn(rest, key, src[key] as Json)
        }
      }
      const shape: { rest?: JsonObject; form?: JsonObject; kept?: JsonObject } = {}
      if (rest) shape.rest = rest
      if (form) shape.form = form
      if (kept) shape.kept = kept
      return { values: values as V, shape }
    },

    write(values, shape, cx) {
      const out: Out = {}
      // Shapes come from synced docs: anything malformed there is ignored, not trusted.
      if (isObject(shape?.rest)) assignOwn(out, shape.rest)
      const forms = isObject(shape?.form) ? shape.form : undefined
      const kept = isObject(shape?.kept) ? shape.kept : undefined
      for (const [name, f] of list) {
        const value = (values as Record<string, unknown>)[name]
        const original = kept?.[name]
        if (isObject(original) && stillReads(f, original, value, cx)) {
          assignOwn(out, original)
          continue
        }
        f.write(out, value, forms?.[name], cx)
      }
      return out
    },
  }
}

const writesBack = (f: Field<unknown>, src: JsonObject, value: unknown, form: Json | undefined, cx: Context): boolean => {
  const out: Out = {}
  f.write(out, value, form, { owner: cx.owner })
  for (const k of f.keys) {
    const inSrc = has(src, k)
    if (inSrc !== has(out, k) || (inSrc && !jsonEqual(src[k], out[k]))) return false
  }
  return true
}

/** Whether kept keys still hold the model's current value (reading them may fail: then they do not). */
const stillReads = (f: Field<unknown>, original: JsonObject, value: unknown, cx: Context): boolean => {
  try {
    return jsonEqual(f.read(original, undefined, cx).value, value)
  } catch {
    return false
  }
}

const pick = (src: JsonObject, keys: readonly string[]): Out => {
  const out: Out = {}
  for (const k of keys) if (has(src, k)) setOwn(out, k, src[k] as Json)
  return out
}

export const isEmptyShape = (s: Shape): boolean => !s.rest && !s.form && !s.kept

/** The shape kept in an entity's `extra` (under `postman`), if it is one. */
export const shapeOf = (extra: JsonObject | undefined): Shape | undefined => {
  const s = extra?.postman
  return isObject(s) ? (s as Shape) : undefined
}

/** The `extra` to store for a shape: nothing when there is nothing to keep. */
export const extraFor = (shape: Shape): JsonObject => (isEmptyShape(shape) ? EMPTY : { postman: shape as JsonObject })

const EMPTY: JsonObject = Object.freeze({}) as JsonObject

/** A model handle rather than a snapshot (duck-typed: two copies of the model package may be loaded). */
export const isModel = <M extends { snapshot(): unknown }>(source: M | object): source is M =>
  typeof (source as { snapshot?: unknown }).snapshot === 'function'
