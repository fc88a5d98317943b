/**
 * History speaks of fields as a person names them (`url`, `body`, `scripts.test`, a variable's `name`); each
 * covers one or more schema fields (schema.ts). One table serves both the diff (what to compare, where it sits
 * in a snapshot) and restore (what to write back), so `restoreField` takes exactly the `field` a diff emits.
 */
import type { EntityKind } from './schema.js'

export interface HistoryField {
  /** The name a Change carries and restoreField takes. */
  readonly name: string
  /** Where it sits in the entity's snapshot. */
  readonly at: readonly string[]
  /** The schema fields (schema.ts) it covers. */
  readonly schema: readonly string[]
}

const f = (name: string, schema: readonly string[] = [name], at = name): HistoryField => ({ name, at: at.split('.'), schema })
const scripts = [f('scripts.prerequest', ['prerequest']), f('scripts.test', ['test'])]
const BODY = ['bodyMode', 'bodyRaw', 'bodyLanguage', 'urlencoded', 'formdata', 'bodyFile', 'graphqlQuery', 'graphqlVariables', 'graphqlOperationName', 'bodyExtra']
/** The URL is its parts and rows (request.ts): restored together, so the raw URL and its rows agree. */
export const URL_SCHEMA = ['url', 'urlOrigin', 'urlPath', 'urlHash', 'query', 'pathVariables', 'urlExtra'] as const

/**
 * Per entity kind, its fields besides the name (a name change is `renamed`, field `name`). A variable's name
 * is its key. Collection variables are entities of their own (`variable`); a folder's are its field `variables`.
 */
export const HISTORY_FIELDS: Partial<Record<EntityKind, readonly HistoryField[]>> = {
  collection: [f('description'), f('version'), f('auth'), ...scripts, f('protocolProfileBehavior'), f('extra')],
  folder: [f('description'), f('auth'), f('variables'), ...scripts, f('protocolProfileBehavior'), f('extra')],
  request: [
    f('method'),
    f('url', URL_SCHEMA),
    f('headers'),
    f('body', BODY),
    f('auth'),
    ...scripts,
    f('description'),
    f('protocolProfileBehavior'),
    f('extra'),
  ],
  response: [f('status'), f('code'), f('headers'), f('body'), f('cookies'), f('responseTime'), f('originalRequest'), f('extra')],
  variable: [f('value'), f('type'), f('enabled'), f('description'), f('extra')],
  environment: [f('extra')],
  globals: [f('extra')],
  workspace: [f('extra')],
  indexEntry: [f('docId'), f('extra')],
  headerPreset: [f('headers'), f('extra')],
  member: [f('accountId'), f('publicKey'), f('jws'), f('extra')],
  keyWrap: [f('kid'), f('createdAt'), f('accountId'), f('jwe'), f('jws'), f('extra')],
}

/** The schema field a kind's name lives in (a variable is named by its key; key records have none). */
export const NAME_FIELD: Partial<Record<EntityKind, string>> = {
  collection: 'name',
  folder: 'name',
  request: 'name',
  response: 'name',
  variable: 'key',
  environment: 'name',
  globals: 'name',
  workspace: 'name',
  indexEntry: 'name',
  headerPreset: 'name',
  member: 'name',
}

/** The history field `name` of a kind (its name included), or undefined. */
export const historyField = (kind: EntityKind, name: string): HistoryField | undefined => {
  if (name === 'name') {
    const schema = NAME_FIELD[kind]
    return schema === undefined ? undefined : { name, at: [schema], schema: [schema] }
  }
  return HISTORY_FIELDS[kind]?.find((x) => x.name === name)
}

/** The value at a path of a snapshot object. */
export const valueAt = (obj: unknown, at: readonly string[]): unknown => {
  let v = obj
  for (const k of at) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined
  return v
}
