/** Collection format versions: which one a file is, and the schema URL each one is written with. */
import { own } from './fields.js'
import { type Json, type JsonObject, isObject } from './json.js'

export type CollectionFormat = '2.0.0' | '2.1.0'

export const SCHEMA_URL: Record<CollectionFormat, string> = {
  '2.0.0': 'https://schema.getpostman.com/json/collection/v2.0.0/collection.json',
  '2.1.0': 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
}

/**
 * The format of a collection: from `info.schema` (or the older `_postman_schema`), else from how auth params
 * are written (objects in v2.0, arrays in v2.1). `v1` for the old format (`requests` and `order`).
 */
export const detectFormat = (root: JsonObject): CollectionFormat | 'v1' => {
  const info = own(root, 'info')
  const schema = isObject(info) ? (own(info, 'schema') ?? own(info, '_postman_schema')) : undefined
  if (typeof schema === 'string') {
    if (/v2\.1|2\.1\.0/.test(schema)) return '2.1.0'
    if (/v2\.0|2\.0\.0|\/v2\//.test(schema)) return '2.0.0'
    if (/v1/.test(schema)) return 'v1'
  }
  if (!isObject(info) && (Array.isArray(own(root, 'requests')) || Array.isArray(own(root, 'order')))) return 'v1'
  return hasObjectAuth(root, 0) ? '2.0.0' : '2.1.0'
}

const hasObjectAuth = (node: Json, depth: number): boolean => {
  if (depth > 64 || !isObject(node)) return false
  const auth = own(node, 'auth')
  if (isObject(auth)) for (const k in auth) if (k !== 'type' && isObject(auth[k])) return true
  const request = own(node, 'request')
  if (isObject(request) && hasObjectAuth(request, depth + 1)) return true
  const items = own(node, 'item')
  return Array.isArray(items) && items.some((i) => hasObjectAuth(i, depth + 1))
}
