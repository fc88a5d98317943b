/**
 * @apisync/postman: lossless import and export of Postman collections (v2.0 and v2.1), environments and globals,
 * and newman run reports as run results, on the @apisync/model docs.
 */
export { exportCollection, importCollection } from './collection.js'
export type { ExportOptions, ImportOptions, ImportProgress } from './collection.js'
export { exportEnvironment, exportGlobals, importEnvironment, importGlobals } from './environment.js'
export type { EnvironmentImportOptions } from './environment.js'
export { PostmanImportError } from './errors.js'
export type { PostmanErrorCode } from './errors.js'
export { SCHEMA_URL, detectFormat } from './format.js'
export type { CollectionFormat } from './format.js'
export { DEFAULT_LIMITS } from './input.js'
export { IMPORT_ORIGIN } from './target.js'
export type { ImportLimits, PostmanInput } from './input.js'
export { importNewmanReport, readNewmanReport } from './newman.js'
export type { SealTarget, ValueSealer } from './seal.js'
export type { NewmanImportOptions } from './newman.js'
