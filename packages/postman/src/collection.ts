/**
 * Collections: `importCollection` reads and checks a whole file into plain init objects first, then writes them
 * into the doc in one transaction, so a bad file changes nothing. `exportCollection` writes a model (or one of
 * its snapshots) back as a Postman collection.
 */
import {
  type CollectionInit,
  CollectionModel,
  type CollectionSnapshot,
  type FolderInit,
  type ItemSnapshot,
  type RequestInit,
  type ResponseInit,
  type SavedResponse,
  type Scripts,
  type Variable,
} from '@apisync/model'
import * as Y from 'yjs'
import { auth } from './auth.js'
import { type Path, at, expected, fail } from './errors.js'
import { anyJson, objectOrNull, own, str } from './fields.js'
import { type CollectionFormat, SCHEMA_URL, detectFormat } from './format.js'
import { type ImportLimits, type PostmanInput, readInput } from './input.js'
import { type Json, type JsonObject, type Out, has, isObject } from './json.js'
import { folderItem, requestItem, requestValuesOf } from './request.js'
import { list, variableRow } from './rows.js'
import { type Context, type Field, type Read, type Shape, isEmptyShape, isModel, objectCodec, shapeOf } from './shape.js'
import { type ValueSealer, sealRows } from './seal.js'
import { IMPORT_ORIGIN, ensureEmpty } from './target.js'
import { description, scripts } from './text.js'

export interface ImportProgress {
  /** `read`: checking the file (nothing written yet); `write`: writing into the doc. */
  readonly phase: 'read' | 'write'
  /** Folders and requests done so far, of `total`. */
  readonly done: number
  readonly total: number
}

export interface ImportOptions {
  /** The Y.Doc to import into; it must be empty. Default: a new Y.Doc. */
  readonly doc?: Y.Doc
  /** The new doc's id (`[A-Za-z0-9_-]`); default a random UUID. The file's own ids are kept for export. */
  readonly id?: string
  /** Called as the import goes: at least at the start and end of each phase, and every 256 items. */
  readonly onProgress?: (progress: ImportProgress) => void
  readonly limits?: ImportLimits
  /**
   * Seals secret variable values (the collection's and its folders') before anything is written: required for
   * a doc of a workspace with encryption on, which refuses them in clear. With it, the import returns a Promise.
   */
  readonly seal?: ValueSealer
}

export interface ExportOptions {
  /** The collection format to write; default: the format the collection was imported from, else 2.1.0. */
  readonly version?: CollectionFormat
}

// ------------------------------------------------------------------------------------------------- codecs

interface InfoValues {
  readonly name: string
  readonly description: string
  readonly version: Json
}
const NO_INFO: InfoValues = Object.freeze({ name: '', description: '', version: null })

const infoObject = objectCodec<InfoValues>({ name: str('name', { always: true }), description: description(), version: anyJson('version') })

const infoField: Field<InfoValues> = {
  keys: ['info'],
  exact: true,
  read(src, path, cx): Read<InfoValues> {
    const v = own(src, 'info')
    if (v === undefined) return { value: NO_INFO, form: { absent: true } }
    if (!isObject(v)) return expected('an info object', at(path, 'info'), v)
    const { values, shape } = infoObject.read(v, at(path, 'info'), cx)
    return { value: values, form: isEmptyShape(shape) ? undefined : { shape: shape as JsonObject } }
  },
  write(out, value, form, cx) {
    const f = isObject(form) ? form : {}
    if (f.absent === true && !cx.convertTo && value.name === '' && value.description === '' && value.version === null) return
    const info = infoObject.write(value, isObject(f.shape) ? (f.shape as Shape) : undefined, cx)
    if (cx.convertTo) info.schema = SCHEMA_URL[cx.convertTo]
    out.info = info
  },
}

interface RootValues {
  readonly info: InfoValues
  readonly scripts: Scripts
  readonly variables: readonly Variable[]
  readonly auth: JsonObject | null
  readonly protocolProfileBehavior: JsonObject | null
}

const rootObject = objectCodec<RootValues>(
  {
    info: infoField,
    scripts,
    variables: list('variable', variableRow, { legacyKey: 'variables' }),
    auth: auth(),
    protocolProfileBehavior: objectOrNull('protocolProfileBehavior'),
  },
  ['item'],
)

/** What a collection's `extra.postman` holds: its shape, the format it came in, and whether `item` was absent. */
interface RootShape extends Shape {
  readonly format?: CollectionFormat
  readonly items?: 'absent'
}

// ------------------------------------------------------------------------------------------------- import

interface Planned {
  readonly kind: 'folder' | 'request'
  readonly parent: string | null
  readonly init: (FolderInit | RequestInit) & { readonly id: string }
  readonly responses: readonly SavedResponse[]
}

interface Plan {
  readonly init: CollectionInit & { readonly id: string }
  readonly items: readonly Planned[]
}

/** Checks a whole collection file and turns it into init objects; writes nothing. */
const plan = (root: Json, id: string, report: (done: number, total: number) => void): Plan => {
  if (!isObject(root)) {
    if (Array.isArray(root)) fail('WRONG_KIND', 'expected a collection object, got an array (Postman globals? use importGlobals)', undefined)
    return expected('a collection object', undefined, root)
  }
  if (!has(root, 'info') && !has(root, 'item')) {
    if (Array.isArray(own(root, 'values'))) fail('WRONG_KIND', 'this is a Postman environment: use importEnvironment', undefined)
    if (isObject(own(root, 'run'))) fail('WRONG_KIND', 'this is a newman report: use importNewmanReport', undefined)
  }
  const format = detectFormat(root)
  if (format === 'v1')
    fail('UNSUPPORTED_VERSION', 'Postman collection v1 is not supported: convert it to v2.1 (postman-collection-transformer)', undefined)
  const { values, shape } = rootObject.read(root, undefined, { owner: id })
  const top = own(root, 'item')
  if (top !== undefined && !Array.isArray(top)) expected('an array of items', at(undefined, 'item'), top)
  const rootShape: RootShape = top === undefined ? { ...shape, format: format as CollectionFormat, items: 'absent' } : { ...shape, format: format as CollectionFormat }

  const total = countItems(top)
  const items: Planned[] = []
  // The file's item ids become the model's where they are usable (strings, unique); others get fresh ones.
  const itemIds = new Set<string>()
  report(0, total)
  const walk = (list: readonly Json[], parent: string | null, path: Path) => {
    list.forEach((entry, i) => {
      const p = at(path, i)
      if (!isObject(entry)) return expected('an item object', p, entry)
      const itemId = claimId(itemIds, own(entry, 'id'), own(entry, '_postman_id'))
      const cx: Context = { owner: itemId }
      const children = own(entry, 'item')
      if (children !== undefined) {
        if (!Array.isArray(children)) expected('an array of items', at(p, 'item'), children)
        const { values: f, shape: s } = folderItem.read(entry, p, cx)
        items.push({ kind: 'folder', parent, init: { id: itemId, ...f, extra: { postman: s as JsonObject } }, responses: [] })
        if (items.length % 256 === 0) report(items.length, total)
        walk(children as Json[], itemId, at(p, 'item'))
        return
      }
      const { values: r, shape: s } = requestItem.read(entry, p, cx)
      const q = r.request
      const init: RequestInit & { id: string } = {
        id: itemId,
        name: r.name,
        description: q.description,
        method: q.method,
        url: q.url,
        headers: q.headers,
        body: q.body,
        auth: q.auth,
        scripts: r.scripts,
        protocolProfileBehavior: r.protocolProfileBehavior,
        extra: { postman: s as JsonObject },
      }
      items.push({ kind: 'request', parent, init, responses: r.responses })
      if (items.length % 256 === 0) report(items.length, total)
    })
  }
  walk((top as Json[] | undefined) ?? [], null, at(undefined, 'item'))
  report(items.length, total)
  const { info } = values
  return {
    init: {
      id,
      name: info.name,
      description: info.description,
      version: info.version,
      auth: values.auth,
      variables: values.variables,
      scripts: values.scripts,
      protocolProfileBehavior: values.protocolProfileBehavior,
      extra: { postman: rootShape as JsonObject },
    },
    items,
  }
}

/** The file's id when it is a usable, unused one; else a fresh one. */
const claimId = (taken: Set<string>, ...candidates: (Json | undefined)[]): string => {
  let id = candidates.find((c): c is string => typeof c === 'string' && c !== '' && !taken.has(c))
  id ??= globalThis.crypto.randomUUID()
  taken.add(id)
  return id
}

const countItems = (list: Json | undefined): number => {
  if (!Array.isArray(list)) return 0
  let n = 0
  for (const entry of list) {
    n++
    if (isObject(entry)) n += countItems(own(entry, 'item'))
  }
  return n
}

/**
 * Imports a Postman collection (v2.0 or v2.1; JSON text with or without a BOM, bytes, or parsed) into an empty
 * Y.Doc, all or nothing. Throws PostmanImportError naming the JSON path of the first problem. With `seal`, the
 * secret variables' values are sealed first and the result is a Promise.
 */
export function importCollection(input: PostmanInput, options: ImportOptions & { readonly seal: ValueSealer }): Promise<CollectionModel>
export function importCollection(input: PostmanInput, options?: ImportOptions & { readonly seal?: undefined }): CollectionModel
export function importCollection(input: PostmanInput, options: ImportOptions = {}): CollectionModel | Promise<CollectionModel> {
  const doc = options.doc ?? new Y.Doc()
  ensureEmpty(doc)
  const onProgress = options.onProgress
  const json = readInput(input, options.limits)
  const p = plan(json, options.id ?? globalThis.crypto.randomUUID(), (done, total) => onProgress?.({ phase: 'read', done, total }))
  const seal = options.seal
  if (!seal) return writePlan(doc, p, onProgress)
  return sealPlan(p, seal).then((sealed) => {
    ensureEmpty(doc) // nothing may have been written while sealing
    return writePlan(doc, sealed, onProgress)
  })
}

/** The plan with every secret value of the collection and its folders sealed. */
const sealPlan = async (p: Plan, seal: ValueSealer): Promise<Plan> => {
  const docId = p.init.id
  const at = (ownerId: string) => ({ docKind: 'collection' as const, docId, ownerId })
  const variables = await sealRows((p.init.variables ?? []) as Variable[], seal, at(docId))
  const items = await Promise.all(
    p.items.map(async (item) => {
      const rows = (item.init as FolderInit).variables as Variable[] | undefined
      return item.kind === 'folder' && rows?.length ? { ...item, init: { ...item.init, variables: await sealRows(rows, seal, at(item.init.id)) } } : item
    }),
  )
  return { init: { ...p.init, variables }, items }
}

const writePlan = (doc: Y.Doc, p: Plan, onProgress: ImportOptions['onProgress']): CollectionModel => {
  const total = p.items.length
  let model!: CollectionModel
  let progressError: unknown
  // Progress callbacks run inside the transaction: an exception from one must not cut the import in half.
  const report = (done: number) => {
    try {
      onProgress?.({ phase: 'write', done, total })
    } catch (e) {
      progressError ??= e
    }
  }
  doc.transact(() => {
    model = CollectionModel.create(doc, p.init)
    report(0)
    p.items.forEach((item, i) => {
      if (item.kind === 'folder') model.createFolder(item.init as FolderInit, { parent: item.parent })
      else {
        model.createRequest(item.init as RequestInit, { parent: item.parent })
        for (const r of item.responses) model.addResponse(item.init.id, r as ResponseInit)
      }
      if ((i + 1) % 256 === 0) report(i + 1)
    })
    report(total)
  }, IMPORT_ORIGIN)
  model.clearUndoHistory()
  if (progressError !== undefined) throw progressError
  return model
}

// ------------------------------------------------------------------------------------------------- export

/** Writes a collection as Postman JSON: as it was imported, with every edit made since. */
export const exportCollection = (source: CollectionModel | CollectionSnapshot, options: ExportOptions = {}): JsonObject => {
  const snap = isModel(source) ? source.snapshot() : source
  const root = shapeOf(snap.extra) as RootShape | undefined
  const format: CollectionFormat = root?.format === '2.0.0' ? '2.0.0' : '2.1.0'
  const target = options.version ?? format
  const convertTo = target !== format ? target : undefined
  const values: RootValues = {
    info: { name: snap.name, description: snap.description, version: snap.version },
    scripts: snap.scripts,
    variables: snap.variables,
    auth: snap.auth,
    protocolProfileBehavior: snap.protocolProfileBehavior,
  }
  const cx: Context = convertTo ? { owner: snap.id, convertTo } : { owner: snap.id }
  let out = rootObject.write(values, root, cx)
  if (!root) {
    // Made in apisync: write what Postman writes.
    out = { info: { _postman_id: snap.id, ...(out.info as JsonObject), schema: SCHEMA_URL[target] }, ...omit(out, 'info') }
  }
  if (!(root?.items === 'absent' && snap.items.length === 0)) out.item = snap.items.map((i) => exportItem(i, convertTo))
  return out
}

const exportItem = (item: ItemSnapshot, convertTo: CollectionFormat | undefined): Json => {
  const shape = shapeOf(item.extra)
  const cx: Context = convertTo ? { owner: item.id, convertTo } : { owner: item.id }
  let out: Out
  if (item.kind === 'folder') {
    out = folderItem.write(item, shape, cx)
    out.item = item.items.map((i) => exportItem(i, convertTo))
  } else out = requestItem.write(requestValuesOf(item), shape, cx)
  return shape ? out : { id: item.id, ...out }
}

const omit = (o: JsonObject, key: string): Out => {
  const out: Out = { ...o }
  delete out[key]
  return out
}
