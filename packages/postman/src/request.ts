/** Items: folders and requests (with their saved responses), each read into the model's init objects. */
import type { Body, Header, JsonObject, RequestSnapshot, SavedResponse, Scripts, Url, Variable } from '@apisync/model'
import { auth, convertRequestAuth } from './auth.js'
import { bodyField } from './body.js'
import { at, expected, fail } from './errors.js'
import { objectOrNull, own, str } from './fields.js'
import { type Out, isObject, jsonEqual } from './json.js'
import { headerRow, list, parseHeaderText, variableRow } from './rows.js'
import { type Field, type Shape, extraFor, isEmptyShape, objectCodec, shapeOf } from './shape.js'
import { description, scripts } from './text.js'
import { urlField } from './url.js'

// ------------------------------------------------------------------------------------------------ request

/** An HTTP method is a token (RFC 9110): custom methods are fine, spaces are not. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

const method: Field<string> = {
  keys: ['method'],
  read(src, path) {
    const v = own(src, 'method')
    if (v === undefined) return { value: 'GET' }
    if (typeof v !== 'string') return expected('a string', at(path, 'method'), v)
    if (!TOKEN.test(v)) fail('INVALID_SHAPE', `${JSON.stringify(v.slice(0, 40))} is not an HTTP method`, at(path, 'method'))
    return { value: v }
  },
  write(out, value) {
    out.method = value
  },
}

export interface RequestValues {
  readonly method: string
  readonly url: Url
  readonly headers: readonly Header[]
  readonly body: Body
  readonly auth: JsonObject | null
  readonly description: string
}

const requestObject = objectCodec<RequestValues>({
  method,
  url: urlField,
  headers: list('header', headerRow, { legacyKey: 'headers', parseText: parseHeaderText, always: true }),
  body: bodyField,
  auth: auth(),
  description: description(),
})

const itemDescription = description()

/**
 * An item's `request` (an object, a URL string, or absent) together with the item's `description`. The model
 * has one description: the request's if it has one, else the item's; the other one is kept as it is.
 */
const requestField: Field<RequestValues> = {
  keys: ['request', 'description'],
  exact: true,
  read(src, path, cx) {
    const r = own(src, 'request')
    const d = own(src, 'description')
    const form: Out = {}
    let request: JsonObject
    if (r === undefined) {
      request = {}
      form.absent = true
    } else if (typeof r === 'string') {
      request = { url: r }
      form.string = true
    } else if (isObject(r)) request = r
    else return expected('a request object or a URL string', at(path, 'request'), r)
    const read = requestObject.read(request, at(path, 'request'), cx)
    let values = read.values
    if (!isEmptyShape(read.shape)) form.shape = read.shape as JsonObject
    if (d !== undefined) {
      const item = own(request, 'description') === undefined ? itemDescription.read(src, path, cx) : undefined
      const written: Out = {}
      if (item) itemDescription.write(written, item.value, item.form, cx)
      if (item && jsonEqual(written.description, d)) {
        values = { ...values, description: item.value }
        form.home = 'item'
        if (item.form !== undefined) form.descriptionForm = item.form
      } else form.itemDescription = d
    }
    return { value: values, form: Object.keys(form).length ? form : undefined }
  },
  write(out, value, form, cx) {
    const f = isObject(form) ? form : {}
    let request = value
    if (f.home === 'item') {
      itemDescription.write(out, value.description, f.descriptionForm, cx)
      request = { ...value, description: '' }
    } else if (f.itemDescription !== undefined) out.description = f.itemDescription
    const o = requestObject.write(request, isObject(f.shape) ? (f.shape as Shape) : undefined, cx)
    const keys = Object.keys(o)
    if (f.string === true && keys.length === 1 && typeof o.url === 'string') out.request = o.url
    else if (f.absent === true && keys.length === 0) return
    else out.request = o
  },
}

// ---------------------------------------------------------------------------------------- saved responses

type ResponseValues = Omit<SavedResponse, 'id' | 'extra'>

const responseObject = objectCodec<ResponseValues>({
  name: str('name', { always: true }),
  originalRequest: {
    keys: ['originalRequest'],
    read(src) {
      const v = own(src, 'originalRequest')
      return { value: v === undefined ? null : v }
    },
    write(out, value, _form, cx) {
      if (value !== null) out.originalRequest = convertRequestAuth(value, cx)
    },
  },
  status: str('status', { always: true }),
  code: {
    keys: ['code'],
    read(src, path) {
      const v = own(src, 'code')
      if (v === undefined || v === null || typeof v === 'string') return { value: null } // strings are kept as they are
      if (typeof v !== 'number') return expected('a status code', at(path, 'code'), v)
      return { value: Number.isInteger(v) && v >= 0 && v < 1000 ? v : null }
    },
    write(out, value) {
      if (value !== null) out.code = value
    },
  },
  headers: list('header', headerRow, { parseText: parseHeaderText, always: true }),
  cookies: {
    keys: ['cookie'],
    read(src, path) {
      const v = own(src, 'cookie')
      if (v === undefined || v === null) return { value: [] }
      if (!Array.isArray(v)) return expected('an array of cookies', at(path, 'cookie'), v)
      return { value: v }
    },
    write(out, value) {
      out.cookie = value
    },
  },
  body: str('body', { always: true, nullable: true }),
  responseTime: {
    keys: ['responseTime'],
    read(src, path) {
      const v = own(src, 'responseTime')
      if (typeof v === 'number') return { value: v >= 0 ? v : null }
      if (v === undefined || v === null || typeof v === 'string') return { value: null } // strings are kept as they are
      return expected('a number', at(path, 'responseTime'), v)
    },
    write(out, value) {
      if (value !== null) out.responseTime = value
    },
  },
})

/**
 * Saved responses added in one transaction all get the same order key (the model computes it from a snapshot
 * that does not see them yet) and then sort by id: ids that sort in the file's order keep that order. The
 * file's own response ids stay in each response's shape.
 */
export const responseId = (requestId: string, index: number): string => `${requestId}~${index.toString(36).padStart(4, '0')}`

const responsesField: Field<readonly SavedResponse[]> = {
  keys: ['response'],
  exact: true,
  read(src, path, cx) {
    const v = own(src, 'response')
    if (v === undefined) return { value: [], form: 'absent' }
    if (v === null) return { value: [], form: 'null' }
    const p = at(path, 'response')
    if (!Array.isArray(v)) return expected('an array of responses', p, v)
    const value = v.map((r, i): SavedResponse => {
      if (!isObject(r)) return expected('a response object', at(p, i), r)
      const { values, shape } = responseObject.read(r, at(p, i), cx)
      return { ...values, id: responseId(cx.owner, i), extra: extraFor(shape) }
    })
    return { value }
  },
  write(out, value, form, cx) {
    if (value.length === 0 && form === 'absent') return
    if (value.length === 0 && form === 'null') out.response = null
    else out.response = value.map((r) => responseObject.write(r, shapeOf(r.extra), cx))
  },
}

// -------------------------------------------------------------------------------------------------- items

export interface RequestItemValues {
  readonly name: string
  readonly request: RequestValues
  readonly scripts: Scripts
  readonly responses: readonly SavedResponse[]
  readonly protocolProfileBehavior: JsonObject | null
}

export const requestItem = objectCodec<RequestItemValues>({
  name: str('name', { always: true }),
  request: requestField,
  scripts,
  responses: responsesField,
  protocolProfileBehavior: objectOrNull('protocolProfileBehavior'),
})

export interface FolderValues {
  readonly name: string
  readonly description: string
  readonly scripts: Scripts
  readonly auth: JsonObject | null
  readonly variables: readonly Variable[]
  readonly protocolProfileBehavior: JsonObject | null
}

export const folderItem = objectCodec<FolderValues>(
  {
    name: str('name', { always: true }),
    description: description(),
    scripts,
    auth: auth(),
    variables: list('variable', variableRow, { legacyKey: 'variables' }),
    protocolProfileBehavior: objectOrNull('protocolProfileBehavior'),
  },
  ['item'],
)

export const requestValuesOf = (r: RequestSnapshot): RequestItemValues => ({
  name: r.name,
  request: { method: r.method, url: r.url, headers: r.headers, body: r.body, auth: r.auth, description: r.description },
  scripts: r.scripts,
  responses: r.responses,
  protocolProfileBehavior: r.protocolProfileBehavior,
})

