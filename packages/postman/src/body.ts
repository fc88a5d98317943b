/** Request bodies: every mode the model knows, plus unknown modes and keys kept as they are. */
import type { Body, FormParam, KeyValue } from '@apisync/model'
import { at, expected } from './errors.js'
import { anyJson, own, str } from './fields.js'
import { isObject } from './json.js'
import { formRow, list, urlencodedRow } from './rows.js'
import { type Field, extraFor, objectCodec, shapeOf } from './shape.js'

type Graphql = Body['graphql']
const NO_GRAPHQL: Graphql = Object.freeze({ query: '', variables: '', operationName: '' })

interface BodyValues {
  readonly mode: string | null
  readonly raw: string
  readonly language: string
  readonly urlencoded: readonly KeyValue[]
  readonly formdata: readonly FormParam[]
  readonly file: Body['file']
  readonly graphql: Graphql
}

const bodyObject = objectCodec<BodyValues>({
  mode: {
    keys: ['mode'],
    read(src, path) {
      const v = own(src, 'mode')
      if (v === undefined || v === null) return { value: null }
      if (typeof v === 'string') return { value: v }
      return expected('a string', at(path, 'mode'), v)
    },
    write(out, value) {
      if (value !== null) out.mode = value
    },
  },
  raw: str('raw'),
  // `options: { raw: { language } }`; other options stay as they are.
  language: {
    keys: ['options'],
    read(src, path) {
      const v = own(src, 'options')
      if (v === undefined) return { value: '' }
      if (!isObject(v)) return expected('an object', at(path, 'options'), v)
      const raw = own(v, 'raw')
      const language = isObject(raw) ? own(raw, 'language') : undefined
      return { value: typeof language === 'string' ? language : '' }
    },
    write(out, value) {
      if (value !== '') out.options = { raw: { language: value } }
    },
  },
  urlencoded: list('urlencoded', urlencodedRow),
  formdata: list('formdata', formRow),
  file: anyJson('file'),
  graphql: {
    keys: ['graphql'],
    read(src, path) {
      const v = own(src, 'graphql')
      if (v === undefined) return { value: NO_GRAPHQL }
      if (!isObject(v)) return expected('an object', at(path, 'graphql'), v)
      const s = (k: string) => {
        const x = own(v, k)
        return typeof x === 'string' ? x : ''
      }
      return { value: { query: s('query'), variables: s('variables'), operationName: s('operationName') } }
    },
    write(out, value) {
      if (value.query === '' && value.variables === '' && value.operationName === '') return
      out.graphql =
        value.operationName === ''
          ? { query: value.query, variables: value.variables }
          : { query: value.query, variables: value.variables, operationName: value.operationName }
    },
  },
})

const EMPTY_BODY: Body = Object.freeze({
  mode: null,
  raw: '',
  language: '',
  urlencoded: [],
  formdata: [],
  file: null,
  graphql: NO_GRAPHQL,
  extra: {},
})

const isEmptyBody = (b: Body) =>
  b.mode === null &&
  b.raw === '' &&
  b.language === '' &&
  b.urlencoded.length === 0 &&
  b.formdata.length === 0 &&
  b.file === null &&
  b.graphql.query === '' &&
  b.graphql.variables === '' &&
  b.graphql.operationName === '' &&
  Object.keys(b.extra).length === 0

/** A request's `body`: an object, null, or absent. */
export const bodyField: Field<Body> = {
  keys: ['body'],
  exact: true,
  read(src, path, cx) {
    const v = own(src, 'body')
    if (v === undefined) return { value: EMPTY_BODY }
    if (v === null) return { value: EMPTY_BODY, form: 'null' }
    if (!isObject(v)) return expected('a body object', at(path, 'body'), v)
    const { values, shape } = bodyObject.read(v, at(path, 'body'), cx)
    const body: Body = { ...values, extra: extraFor(shape) }
    return isEmptyBody(body) ? { value: body, form: 'present' } : { value: body }
  },
  write(out, body, form, cx) {
    if (isEmptyBody(body)) {
      if (form === 'null') out.body = null
      else if (form === 'present') out.body = bodyObject.write(body, undefined, cx)
      return
    }
    out.body = bodyObject.write(body, shapeOf(body.extra), cx)
  },
}
