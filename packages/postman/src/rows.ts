/**
 * Rows of lists (headers, query and form params, path variables, variables) and the list fields holding them.
 * Row ids are the row's index at import: unique in their list, and the same whenever the same input is read.
 */
import type { FormParam, KeyValue, PathVariable, Variable } from '@apisync/model'
import { type Path, at, expected } from './errors.js'
import { anyJson, disabled, enabled, looseString, own, str } from './fields.js'
import { type Json, type JsonObject, type Out, has, isObject, jsonEqual } from './json.js'
import { type Context, type Field, type ObjectCodec, type Read, extraFor, objectCodec, shapeOf } from './shape.js'
import { description } from './text.js'

type Row = { readonly id: string; readonly extra: JsonObject }

export interface RowCodec<R extends Row> {
  read(entry: Json, path: Path, index: number, cx: Context): R
  write(row: R, cx: Context): Json
}

/** Rows read by an object codec: the row is the codec's values plus `id` and `extra`. */
export const rowCodec = <V extends object>(codec: ObjectCodec<V>, what: string): RowCodec<V & Row> => ({
  read(entry, path, index, cx) {
    if (!isObject(entry)) return expected(what, path, entry)
    const { values, shape } = codec.read(entry, path, cx)
    return { ...values, id: String(index), extra: extraFor(shape) }
  },
  write(row, cx) {
    return codec.write(row, shapeOf(row.extra), cx)
  },
})

// ------------------------------------------------------------------------------------------------ headers

/** `Key: value`, as header strings write it. */
export const parseHeaderLine = (line: string): { key: string; value: string } => {
  const colon = line.indexOf(':')
  return colon < 0 ? { key: line.trim(), value: '' } : { key: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() }
}

/** Headers given as one string (`"Content-Type: application/json\nAccept: *"`), one row per non-empty line. */
export const parseHeaderText = (text: string): KeyValue[] =>
  text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line, i) => ({ id: String(i), ...parseHeaderLine(line), enabled: true, description: '', extra: {} }))

/** Key-value rows. Keys and values may be null (query params say so; other generators write it too). */
const keyValueCodec = objectCodec<Omit<KeyValue, 'id' | 'extra'>>({
  key: str('key', { always: true, nullable: true }),
  value: str('value', { always: true, nullable: true }),
  enabled: disabled,
  description: description(),
})

const headerRows = rowCodec(keyValueCodec, 'a header object')

/** Header rows; an entry may also be a `Key: value` string (response headers), written back as one. */
export const headerRow: RowCodec<KeyValue> = {
  read(entry, path, index, cx) {
    if (typeof entry !== 'string') return headerRows.read(entry, path, index, cx)
    return { id: String(index), ...parseHeaderLine(entry), enabled: true, description: '', extra: { postman: { form: { line: entry } } } }
  },
  write(row, cx) {
    const line = shapeOf(row.extra)?.form?.line
    if (typeof line === 'string' && row.enabled && row.description === '') {
      const parsed = parseHeaderLine(line)
      if (parsed.key === row.key && parsed.value === row.value) return line
    }
    return headerRows.write(row, cx)
  },
}

export const queryRow: RowCodec<KeyValue> = rowCodec(keyValueCodec, 'a query parameter object')
export const urlencodedRow: RowCodec<KeyValue> = rowCodec(keyValueCodec, 'a url-encoded parameter object')

export const formRow: RowCodec<FormParam> = rowCodec(
  objectCodec<Omit<FormParam, 'id' | 'extra'>>({
    key: str('key', { always: true }),
    type: str('type', { always: true, fallback: 'text' }),
    value: str('value', { always: true }),
    src: anyJson('src'),
    contentType: str('contentType'),
    enabled: disabled,
    description: description(),
  }),
  'a form-data parameter object',
)

// ---------------------------------------------------------------------------------------------- variables

/**
 * A variable's name: `key`, or in v2.0 files `id` when there is no `key`. An `id` next to a `key` stays as
 * it is.
 */
const variableKey: Field<string> = {
  keys: ['key', 'id'],
  read(src, path): Read<string> {
    const key = own(src, 'key')
    const id = own(src, 'id')
    if (key !== undefined && typeof key !== 'string') expected('a string', at(path, 'key'), key)
    if (key === undefined && typeof id === 'string') return { value: id, form: { fromId: true } }
    return { value: (key as string | undefined) ?? '', form: id === undefined ? undefined : { id } }
  },
  write(out, value, form) {
    if (isObject(form) && form.fromId === true) {
      out.id = value
      return
    }
    if (isObject(form) && has(form, 'id')) out.id = form.id as Json
    out.key = value
  },
}

/** A variable's type; the model's default type is `default`, which collections leave out. */
const variableType = (always: boolean): Field<string> => ({
  keys: ['type'],
  read(src, path) {
    const v = own(src, 'type')
    if (v === undefined) return { value: 'default' }
    if (typeof v === 'string') return { value: v }
    return expected('a string', at(path, 'type'), v)
  },
  write(out, value) {
    if (always || value !== 'default') out.type = value
  },
})

const variableCodec = (kind: 'collection' | 'environment') =>
  objectCodec<Omit<Variable, 'id' | 'extra'>>({
    key: variableKey,
    value: anyJson('value', '', () => false),
    type: variableType(kind === 'environment'),
    enabled: enabled(kind === 'environment' ? 'enabled' : 'disabled'),
    description: description(),
  })

/** Collection and folder variables (`variable`). */
export const variableRow: RowCodec<Variable> = rowCodec(variableCodec('collection'), 'a variable object')
/** Environment and globals values (`values`). */
export const valueRow: RowCodec<Variable> = rowCodec(variableCodec('environment'), 'a variable object')

export const pathVariableRow: RowCodec<PathVariable> = rowCodec(
  objectCodec<Omit<PathVariable, 'id' | 'extra'>>({
    key: variableKey,
    // Postman allows any type here; the model keeps strings, others stay as they are.
    value: looseString('value', { always: true }),
    description: description(),
  }),
  'a path variable object',
)

// -------------------------------------------------------------------------------------------------- lists

export interface ListOptions<R> {
  /** An older name for the same list (`headers`, `variables`), read when the current one is absent. */
  readonly legacyKey?: string
  /** The whole list may be given as a string (headers). */
  readonly parseText?: (text: string) => R[]
  /** Written as `[]` when empty, as Postman does. */
  readonly always?: boolean
}

/** A list of rows, and how it came: absent, null, empty, as text, under its legacy name. */
export const list = <R extends Row>(key: string, codec: RowCodec<R>, options: ListOptions<R> = {}): Field<readonly R[]> => {
  const { legacyKey, parseText, always = false } = options
  return {
    keys: legacyKey ? [key, legacyKey] : [key],
    exact: true,
    read(src, path, cx) {
      const form: Out = {}
      let k = key
      let v = own(src, key)
      const legacy = legacyKey ? own(src, legacyKey) : undefined
      if (v === undefined && legacy !== undefined) {
        v = legacy
        k = form.at = legacyKey!
      } else if (legacy !== undefined) form.legacy = legacy
      const p = at(path, k)
      let rows: R[]
      // Only what the default form would not write again: absent where it writes `[]`, `[]` where it writes nothing.
      if (v === undefined) {
        rows = []
        if (always) form.absent = true
      } else if (v === null) {
        rows = []
        form.null = true
      } else if (typeof v === 'string' && parseText) {
        rows = parseText(v)
        form.text = v
      } else if (Array.isArray(v)) {
        rows = v.map((entry, i) => codec.read(entry, at(p, i), i, cx))
        if (rows.length === 0 && !always) form.empty = true
      } else return expected(parseText ? 'an array or a string' : 'an array', p, v)
      return { value: rows, form: Object.keys(form).length ? form : undefined }
    },
    write(out, rows, form, cx) {
      const f = isObject(form) ? form : {}
      if (legacyKey && has(f, 'legacy')) out[legacyKey] = f.legacy as Json
      const k = typeof f.at === 'string' ? f.at : key
      if (typeof f.text === 'string' && parseText && jsonEqual(parseText(f.text), rows)) {
        out[k] = f.text
        return
      }
      if (rows.length === 0) {
        if (f.null === true) out[k] = null
        else if (f.empty === true || (always && f.absent !== true)) out[k] = []
        return
      }
      out[k] = rows.map((r) => codec.write(r, cx))
    },
  }
}
