/** Environments and globals: named variable lists, in their own docs. Globals may also be a bare array (old newman files). */
import { EnvironmentModel, type EnvironmentSnapshot, type Variable, newId } from '@apisync/model'
import * as Y from 'yjs'
import { at, expected, fail } from './errors.js'
import { own, str } from './fields.js'
import { type ImportLimits, type PostmanInput, readInput } from './input.js'
import { type Json, type JsonObject, type Out, has, isObject } from './json.js'
import { list, valueRow } from './rows.js'
import { type Shape, isModel, objectCodec, shapeOf } from './shape.js'
import { type ValueSealer, sealRows } from './seal.js'
import { IMPORT_ORIGIN, ensureEmpty } from './target.js'

export interface EnvironmentImportOptions {
  /** The Y.Doc to import into; it must be empty. Default: a new Y.Doc. */
  readonly doc?: Y.Doc
  /** The new doc's id (`[A-Za-z0-9_-]`); default a random UUID. The file's own `id` is kept for export. */
  readonly id?: string
  readonly limits?: ImportLimits
  /** Seals every value before anything is written (see ImportOptions.seal); the import then returns a Promise. */
  readonly seal?: ValueSealer
}

interface EnvValues {
  readonly name: string
  readonly values: readonly Variable[]
}

const GLOBALS_NAME = 'Globals'

const codec = (defaultName: string) =>
  objectCodec<EnvValues>({ name: str('name', { always: true, fallback: defaultName }), values: list('values', valueRow, { always: true }) })
const environmentObject = codec('')
const globalsObject = codec(GLOBALS_NAME)

/** What an environment's `extra.postman` holds: its shape, and for globals whether they were a bare array. */
interface EnvShape extends Shape {
  readonly array?: true
}

const checkKind = (json: Json, kind: 'environment' | 'globals'): JsonObject | readonly Json[] => {
  if (Array.isArray(json)) {
    if (kind === 'globals') return json
    return fail('WRONG_KIND', 'expected an environment object, got an array (Postman globals? use importGlobals)', undefined)
  }
  if (!isObject(json)) return expected(`a ${kind} object`, undefined, json)
  if (has(json, 'info') || Array.isArray(own(json, 'item')))
    fail('WRONG_KIND', `this is a Postman collection, not ${kind}: use importCollection`, undefined)
  const values = own(json, 'values')
  if (values === undefined && isObject(own(json, 'run'))) fail('WRONG_KIND', 'this is a newman report: use importNewmanReport', undefined)
  return json
}

const read = (input: PostmanInput, kind: 'environment' | 'globals', limits: ImportLimits | undefined): { values: EnvValues; shape: EnvShape } => {
  const json = checkKind(readInput(input, limits), kind)
  if (Array.isArray(json)) {
    const values = json.map((entry, i) => valueRow.read(entry, at(undefined, i), i, { owner: '' }))
    return { values: { name: GLOBALS_NAME, values }, shape: { array: true } }
  }
  return (kind === 'globals' ? globalsObject : environmentObject).read(json as JsonObject, undefined, { owner: '' })
}

const importInto = (kind: 'environment' | 'globals', input: PostmanInput, options: EnvironmentImportOptions): EnvironmentModel | Promise<EnvironmentModel> => {
  const doc = options.doc ?? new Y.Doc()
  ensureEmpty(doc)
  const { values, shape } = read(input, kind, options.limits)
  const write = (id: string | undefined, variables: readonly Variable[]) => {
    const init = { name: values.name, variables, extra: { postman: shape as JsonObject } }
    let model!: EnvironmentModel
    doc.transact(() => {
      model = kind === 'globals' ? EnvironmentModel.createGlobals(doc, { ...init, id }) : EnvironmentModel.create(doc, { ...init, id })
    }, IMPORT_ORIGIN)
    return model
  }
  if (!options.seal) return write(options.id, values.values)
  const id = options.id ?? newId()
  return sealRows(values.values, options.seal, { docKind: kind, docId: id, ownerId: id }).then((variables) => {
    ensureEmpty(doc)
    return write(id, variables)
  })
}

const exportFrom = (kind: 'environment' | 'globals', source: EnvironmentModel | EnvironmentSnapshot): JsonObject | Json[] => {
  const snap = isModel(source) ? source.snapshot() : source
  const shape = shapeOf(snap.extra) as EnvShape | undefined
  const cx = { owner: snap.id }
  if (shape?.array && snap.name === GLOBALS_NAME) return snap.variables.map((v) => valueRow.write(v, cx))
  const out: Out = (kind === 'globals' ? globalsObject : environmentObject).write(
    { name: snap.name, values: snap.variables },
    shape?.array ? undefined : shape,
    cx,
  )
  // Made in apisync (or a bare globals array renamed since): write what Postman writes.
  return shape && !shape.array ? out : { id: snap.id, ...out, _postman_variable_scope: kind }
}

type Sealing = { readonly seal: ValueSealer }
type Plain = { readonly seal?: undefined }

/** Imports a Postman environment into an empty Y.Doc, all or nothing (a Promise with `seal`). */
export function importEnvironment(input: PostmanInput, options: EnvironmentImportOptions & Sealing): Promise<EnvironmentModel>
export function importEnvironment(input: PostmanInput, options?: EnvironmentImportOptions & Plain): EnvironmentModel
export function importEnvironment(input: PostmanInput, options: EnvironmentImportOptions = {}): EnvironmentModel | Promise<EnvironmentModel> {
  return importInto('environment', input, options)
}

/** Imports Postman globals (an object with `values`, or the older bare array) into an empty Y.Doc. */
export function importGlobals(input: PostmanInput, options: EnvironmentImportOptions & Sealing): Promise<EnvironmentModel>
export function importGlobals(input: PostmanInput, options?: EnvironmentImportOptions & Plain): EnvironmentModel
export function importGlobals(input: PostmanInput, options: EnvironmentImportOptions = {}): EnvironmentModel | Promise<EnvironmentModel> {
  return importInto('globals', input, options)
}

export const exportEnvironment = (source: EnvironmentModel | EnvironmentSnapshot): JsonObject =>
  exportFrom('environment', source) as JsonObject

/** Writes globals back as they came: an object, or a bare array if they came as one. */
export const exportGlobals = (source: EnvironmentModel | EnvironmentSnapshot): JsonObject | Json[] => exportFrom('globals', source)
