/** Snapshot types: plain, immutable, structurally shared. Each mirrors a table in schema.ts. */
import type { Conflict, Problem } from './entity.js'
import type { Json, JsonObject } from './json.js'

type Extra = { readonly extra: JsonObject }

export interface KeyValue extends Extra {
  readonly id: string
  readonly key: string
  readonly value: string
  readonly enabled: boolean
  readonly description: string
}
export type Header = KeyValue
export type QueryParam = KeyValue

export interface PathVariable extends Extra {
  readonly id: string
  readonly key: string
  readonly value: string
  readonly description: string
}

export interface FormParam extends Extra {
  readonly id: string
  readonly key: string
  /** `text` or `file` (other strings are kept as they came). */
  readonly type: string
  readonly value: string
  /** For file parts: the file reference(s) as Postman keeps them. */
  readonly src: Json
  readonly contentType: string
  readonly enabled: boolean
  readonly description: string
}

export interface Variable extends Extra {
  readonly id: string
  readonly key: string
  /** The shared (synced) value. */
  readonly value: Json
  /** `default`, `secret`, or any other type string (Postman's `string`, `boolean`, `any`…). */
  readonly type: string
  readonly enabled: boolean
  readonly description: string
}

export interface Scripts {
  readonly prerequest: string
  readonly test: string
}

/** Auth of any type, including unknown ones: `{ type, [type]: params }` as Postman keeps it. */
export type Auth = JsonObject | null

/** An interface, not a type literal: patches and inits may then give any part of it. */
export interface GraphqlBody {
  readonly query: string
  readonly variables: string
  readonly operationName: string
}

export interface Body {
  /** none/raw/urlencoded/formdata/file/graphql or any other mode; null when the request has no body. */
  readonly mode: string | null
  readonly raw: string
  readonly language: string
  readonly urlencoded: readonly KeyValue[]
  readonly formdata: readonly FormParam[]
  readonly file: Json
  readonly graphql: GraphqlBody
  readonly extra: JsonObject
}

export interface Url {
  readonly raw: string
  readonly query: readonly QueryParam[]
  readonly variables: readonly PathVariable[]
  /** Parsed parts not modelled (protocol, host, path, port, hash…), kept for lossless export. */
  readonly extra: JsonObject
}

export interface SavedResponse extends Extra {
  readonly id: string
  readonly name: string
  readonly originalRequest: Json
  readonly status: string
  readonly code: number | null
  readonly headers: readonly KeyValue[]
  readonly cookies: readonly Json[]
  readonly body: string
  readonly responseTime: number | null
}

export interface RequestSnapshot extends Extra {
  readonly kind: 'request'
  readonly id: string
  readonly name: string
  readonly description: string
  readonly method: string
  readonly url: Url
  readonly headers: readonly Header[]
  readonly body: Body
  readonly auth: Auth
  readonly scripts: Scripts
  readonly protocolProfileBehavior: JsonObject | null
  readonly responses: readonly SavedResponse[]
}

export interface FolderSnapshot extends Extra {
  readonly kind: 'folder'
  readonly id: string
  readonly name: string
  readonly description: string
  readonly auth: Auth
  readonly variables: readonly Variable[]
  readonly scripts: Scripts
  readonly protocolProfileBehavior: JsonObject | null
  readonly items: readonly ItemSnapshot[]
}

export type ItemSnapshot = FolderSnapshot | RequestSnapshot

export interface DocState {
  /** Open conflicts, the same on every replica once they have exchanged updates. */
  readonly conflicts: readonly Conflict[]
  /** Malformed content received from others, skipped while reading. */
  readonly problems: readonly Problem[]
}

export interface CollectionSnapshot extends Extra, DocState {
  readonly id: string
  readonly name: string
  readonly description: string
  readonly version: Json
  readonly auth: Auth
  readonly variables: readonly Variable[]
  readonly scripts: Scripts
  readonly protocolProfileBehavior: JsonObject | null
  readonly items: readonly ItemSnapshot[]
}

export interface EnvironmentSnapshot extends Extra, DocState {
  readonly id: string
  readonly name: string
  readonly variables: readonly Variable[]
}

export type GlobalsSnapshot = EnvironmentSnapshot

export interface IndexEntry extends Extra {
  readonly id: string
  /** The collection or environment id (its doc is `{workspaceId}/collection/{docId}`). */
  readonly docId: string
  readonly name: string
}

export interface HeaderPreset extends Extra {
  readonly id: string
  readonly name: string
  readonly headers: readonly Header[]
}

export interface Member extends Extra {
  readonly id: string
  readonly accountId: string
  readonly name: string
  /** The member's public key (JWK) that the workspace's data keys are wrapped to. */
  readonly publicKey: JsonObject | null
  /** The signed membership record (JWS compact; see @apisync/crypto); '' on rows written before signing. */
  readonly jws: string
}

/**
 * A key record: signed (`jws`: a data-key generation or share with its wraps), or, on rows written before
 * signing, one generation (`kid`) wrapped (JWE, ECDH-ES+A256KW) for one member (`jwe`).
 */
export interface KeyWrap extends Extra {
  readonly id: string
  readonly kid: string
  readonly createdAt: number
  readonly accountId: string
  readonly jwe: string
  readonly jws: string
}

export interface WorkspaceSnapshot extends Extra, DocState {
  readonly id: string
  readonly name: string
  readonly collections: readonly IndexEntry[]
  readonly environments: readonly IndexEntry[]
  readonly headerPresets: readonly HeaderPreset[]
  readonly members: readonly Member[]
  readonly keyWraps: readonly KeyWrap[]
}

// ---------------------------------------------------------------------------------------------- inputs

/** A row of a list has an id; other arrays (cookies, a file's src) are plain JSON values. */
type Row = { readonly id: string }
/** A row to add: its fields (all optional; nested lists as rows to add), optionally with its id. */
export type RowInput<R> = { readonly [K in keyof Omit<R, 'id'>]?: R[K] extends readonly (infer E extends Row)[] ? readonly RowInput<E>[] : R[K] } & {
  readonly id?: string
}
type DeepPartial<T> = { readonly [K in keyof T]?: T[K] extends readonly (infer R extends Row)[] ? readonly RowInput<R>[] : T[K] extends JsonObject | null | Json ? T[K] : DeepPartial<T[K]> }

export type RequestInit = DeepPartial<Omit<RequestSnapshot, 'kind' | 'id' | 'responses'>> & { readonly id?: string }
export type FolderInit = DeepPartial<Omit<FolderSnapshot, 'kind' | 'id' | 'items'>> & { readonly id?: string }
export type CollectionInit = DeepPartial<Omit<CollectionSnapshot, 'id' | 'items' | 'conflicts' | 'problems'>>
export type ResponseInit = DeepPartial<Omit<SavedResponse, 'id'>> & { readonly id?: string }
export type EnvironmentInit = DeepPartial<Omit<EnvironmentSnapshot, 'id' | 'conflicts' | 'problems'>>
export type WorkspaceInit = DeepPartial<Omit<WorkspaceSnapshot, 'id' | 'conflicts' | 'problems'>>

/** Patches never contain lists (they change through row operations). */
type NoLists<T> = { readonly [K in keyof T]?: T[K] extends readonly Row[] ? never : T[K] extends JsonObject | null | Json ? T[K] : NoLists<T[K]> }
export type RequestPatch = NoLists<Omit<RequestSnapshot, 'kind' | 'id' | 'responses'>>
export type FolderPatch = NoLists<Omit<FolderSnapshot, 'kind' | 'id' | 'items'>>
export type CollectionPatch = NoLists<Omit<CollectionSnapshot, 'id' | 'items' | 'conflicts' | 'problems'>>
export type ResponsePatch = NoLists<Omit<SavedResponse, 'id'>>
export type EnvironmentPatch = NoLists<Omit<EnvironmentSnapshot, 'id' | 'conflicts' | 'problems'>>
export type WorkspacePatch = NoLists<Omit<WorkspaceSnapshot, 'id' | 'conflicts' | 'problems'>>
