/**
 * The schema: which fields each kind of entity has, how each one merges (register, text or list), where it
 * sits in the entity's snapshot, and which values a write accepts. One table drives reading, writing,
 * validation and conflict detection, so adding a field is one line.
 */
import { type Json, isJson, isJsonObject } from './json.js'

/**
 * 2: a request's URL is its parts (origin, path, hash registers; query rows pooled by a tag; path variables
 * pooled by key) and `url` is the raw URL as typed, kept as formatting while it reads the same (see url.ts).
 * Docs of version 1 read the same: absent part registers are read from the raw URL.
 */
export const SCHEMA_VERSION = 2

export interface RegisterSpec {
  readonly kind: 'register'
  /** Where the value sits in the snapshot, e.g. ['body', 'mode']. */
  readonly at: readonly string[]
  readonly check: (v: unknown) => boolean
  readonly expect: string
  readonly fallback: Json
  /** Kept by the model for itself: not in snapshots, not in patches. */
  readonly hidden?: boolean
  /**
   * A write also records the clocks its writer had seen of these fields (StoredEntry.s), so that a later read
   * can tell edits of them the writer did not know about (the body mode and the content of the other modes).
   */
  readonly seenOf?: readonly string[]
}
export interface TextSpec {
  readonly kind: 'text'
  readonly at: readonly string[]
}
export interface ListSpec {
  readonly kind: 'list'
  readonly at: readonly string[]
  readonly row: EntityKind
}
export type FieldSpec = RegisterSpec | TextSpec | ListSpec

const isString = (v: unknown) => typeof v === 'string'
const isBool = (v: unknown) => typeof v === 'boolean'
const isStringOrNull = (v: unknown) => v === null || typeof v === 'string'
const isObjectOrNull = (v: unknown) => v === null || isJsonObject(v)
const isCode = (v: unknown) => v === null || (Number.isInteger(v) && (v as number) >= 0 && (v as number) < 1000)
const isTimeOrNull = (v: unknown) => v === null || (typeof v === 'number' && Number.isFinite(v) && v >= 0)
/** HTTP methods are tokens (RFC 9110): any custom method is fine, whitespace is not. */
const isMethod = (v: unknown) => typeof v === 'string' && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(v)

const reg = (at: string, check: (v: unknown) => boolean, expect: string, fallback: Json): RegisterSpec => ({
  kind: 'register',
  at: at.split('.'),
  check,
  expect,
  fallback,
})
const str = (at: string, fallback = '') => reg(at, isString, 'a string', fallback)
const strOrNull = (at: string) => reg(at, isStringOrNull, 'a string or null', null)
const bool = (at: string, fallback: boolean) => reg(at, isBool, 'a boolean', fallback)
const json = (at: string, fallback: Json = null) => reg(at, (v) => isJson(v), 'a JSON value', fallback)
const objectOrNull = (at: string) => reg(at, isObjectOrNull, 'a JSON object or null', null)
const extra = () => reg('extra', isJsonObject, 'a JSON object', {})
const hidden = (spec: RegisterSpec): RegisterSpec => ({ ...spec, hidden: true })
/**
 * Auth of any type: `{ type, [type]: params }` as Postman keeps it. The type is what it means, so it must be
 * a string; its params, when present, an array (v2.1) or an object (v2.0).
 */
const isAuth = (v: unknown) => {
  if (v === null) return true
  if (!isJsonObject(v) || typeof v.type !== 'string') return false
  const params = v[v.type]
  return params === undefined || params === null || typeof params === 'object'
}
/** What each body mode shows: the fields a person edits while the request has that mode. */
export const MODE_CONTENT: Readonly<Record<string, readonly string[]>> = {
  raw: ['bodyRaw', 'bodyLanguage'],
  urlencoded: ['urlencoded'],
  formdata: ['formdata'],
  file: ['bodyFile'],
  graphql: ['graphqlQuery', 'graphqlVariables', 'graphqlOperationName'],
}
const BODY_CONTENT = Object.values(MODE_CONTENT).flat()
/** Set when a person kept both of two entities created with one id on two devices (see item-index.ts). */
const keptBoth = () => hidden(reg('keptBoth', isBool, 'a boolean', false))
const authReg = () => reg('auth', isAuth, 'null or an auth object with a string type', null)
const text = (at: string): TextSpec => ({ kind: 'text', at: at.split('.') })
const list = (at: string, row: EntityKind): ListSpec => ({ kind: 'list', at: at.split('.'), row })

const keyValue = {
  key: str('key'),
  value: str('value'),
  enabled: bool('enabled', true),
  description: str('description'),
  extra: extra(),
}

export type EntityKind =
  | 'header'
  | 'queryParam'
  | 'urlencodedParam'
  | 'pathVariable'
  | 'formParam'
  | 'variable'
  | 'indexEntry'
  | 'headerPreset'
  | 'member'
  | 'keyWrap'
  | 'collection'
  | 'folder'
  | 'request'
  | 'response'
  | 'environment'
  | 'globals'
  | 'workspace'

export const SPECS: Record<EntityKind, Spec> = {
  // rows of lists
  header: keyValue,
  /** `tag`: the row's identity when it was made by typing a URL or adding a param (`key#n`); see POOL_BY. */
  queryParam: { ...keyValue, tag: hidden(str('tag')) },
  urlencodedParam: keyValue,
  pathVariable: { key: str('key'), value: str('value'), description: str('description'), extra: extra() },
  formParam: {
    key: str('key'),
    type: str('type', 'text'),
    value: str('value'),
    src: json('src'),
    contentType: str('contentType'),
    enabled: bool('enabled', true),
    description: str('description'),
    extra: extra(),
  },
  variable: {
    key: str('key'),
    value: json('value', ''),
    type: str('type', 'default'),
    enabled: bool('enabled', true),
    description: str('description'),
    extra: extra(),
  },
  indexEntry: { docId: str('docId'), name: str('name'), extra: extra() },
  headerPreset: { name: str('name'), headers: list('headers', 'header'), extra: extra() },
  /**
   * A membership record (@apisync/crypto): `jws` is the signed record, the truth; `accountId`, `name` and
   * `publicKey` (the member's JWK that data keys are wrapped to) are display copies. Rows with an empty `jws`
   * were written before records were signed.
   */
  member: { accountId: str('accountId'), name: str('name'), publicKey: objectOrNull('publicKey'), jws: str('jws'), extra: extra() },
  /**
   * A key record (@apisync/crypto): `jws` is a signed data-key generation or share, holding its wraps. Rows
   * with an empty `jws` were written before records were signed: one generation (`kid`) wrapped for one
   * member (`jwe`). One row per record, so two people adding records concurrently both land.
   */
  keyWrap: {
    kid: str('kid'),
    createdAt: reg('createdAt', (v) => typeof v === 'number' && Number.isFinite(v), 'a time in ms', 0),
    accountId: str('accountId'),
    jwe: str('jwe'),
    jws: str('jws'),
    extra: extra(),
  },
  // entities
  collection: {
    name: str('name'),
    description: text('description'),
    version: json('version'),
    auth: authReg(),
    variables: list('variables', 'variable'),
    prerequest: text('scripts.prerequest'),
    test: text('scripts.test'),
    protocolProfileBehavior: objectOrNull('protocolProfileBehavior'),
    extra: extra(),
  },
  folder: {
    name: str('name'),
    keptBoth: keptBoth(),
    description: text('description'),
    auth: authReg(),
    variables: list('variables', 'variable'),
    prerequest: text('scripts.prerequest'),
    test: text('scripts.test'),
    protocolProfileBehavior: objectOrNull('protocolProfileBehavior'),
    extra: extra(),
  },
  request: {
    name: str('name'),
    keptBoth: keptBoth(),
    description: text('description'),
    method: reg('method', isMethod, 'an HTTP method token', 'GET'),
    /** The raw URL as typed (formatting); the URL is its parts below and the query rows (see url.ts). */
    url: str('url.raw'),
    urlOrigin: hidden(str('url.origin')),
    urlPath: hidden(str('url.path')),
    urlHash: hidden(reg('url.hash', isStringOrNull, 'a string or null', null)),
    query: list('url.query', 'queryParam'),
    pathVariables: list('url.variables', 'pathVariable'),
    urlExtra: reg('url.extra', isJsonObject, 'a JSON object', {}),
    headers: list('headers', 'header'),
    bodyMode: { ...strOrNull('body.mode'), seenOf: BODY_CONTENT },
    bodyRaw: text('body.raw'),
    bodyLanguage: str('body.language'),
    urlencoded: list('body.urlencoded', 'urlencodedParam'),
    formdata: list('body.formdata', 'formParam'),
    bodyFile: json('body.file'),
    graphqlQuery: text('body.graphql.query'),
    graphqlVariables: text('body.graphql.variables'),
    graphqlOperationName: str('body.graphql.operationName'),
    bodyExtra: reg('body.extra', isJsonObject, 'a JSON object', {}),
    auth: authReg(),
    prerequest: text('scripts.prerequest'),
    test: text('scripts.test'),
    protocolProfileBehavior: objectOrNull('protocolProfileBehavior'),
    extra: extra(),
  },
  response: {
    name: str('name'),
    keptBoth: keptBoth(),
    originalRequest: json('originalRequest'),
    status: str('status'),
    code: reg('code', isCode, 'an HTTP status code or null', null),
    headers: list('headers', 'header'),
    cookies: reg('cookies', (v) => Array.isArray(v) && isJson(v), 'a JSON array', []),
    body: text('body'),
    responseTime: reg('responseTime', isTimeOrNull, 'a time in ms or null', null),
    extra: extra(),
  },
  environment: { name: str('name'), variables: list('variables', 'variable'), extra: extra() },
  globals: { name: str('name', 'Globals'), variables: list('variables', 'variable'), extra: extra() },
  workspace: {
    name: str('name'),
    collections: list('collections', 'indexEntry'),
    environments: list('environments', 'indexEntry'),
    headerPresets: list('headerPresets', 'headerPreset'),
    members: list('members', 'member'),
    keyWraps: list('keyWraps', 'keyWrap'),
    extra: extra(),
  },
}
export type Spec = Readonly<Record<string, FieldSpec>>
export const specOf = (kind: EntityKind): Spec => SPECS[kind]

/** Fields every entity has that the schema tables do not list: lifecycle and placement. */
export const DELETED = 'deleted'
/** Items of a tree: `{ parent, order, from }`; rows of a list and saved responses: `{ order }` (plus `owner`). */
export const POSITION = 'position'
