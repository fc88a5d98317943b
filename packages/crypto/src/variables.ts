/**
 * Sealed variables: shared values of environment and global variables (and of collection and folder variables
 * of type `secret`) are sealed before they enter the Y.Doc and opened on read. Names stay in clear; values never.
 * Which values must be sealed is the model's rule (`mustSeal`): a doc of a workspace with encryption on refuses
 * the others in clear.
 */
import type { CollectionModel, Conflict, EnvironmentModel, Json, Variable } from '@apisync/model'
import { isSealedValue, mustSeal, newRowId } from '@apisync/model'
import { CryptoError } from './errors.js'
import type { Keyring } from './keyring.js'
import { type Opened, openValue, sealValue, sealedKid } from './seal.js'

/** Where a value lives: what its seal is bound to, so that it cannot be moved to another variable. */
export interface SealTarget {
  readonly docKind: 'collection' | 'environment' | 'globals'
  /** The collection or environment id. */
  readonly docId: string
  /** The collection (root variables) or the folder the variable belongs to; the doc id for environments. */
  readonly ownerId: string
  readonly rowId: string
}

/** Seals one value for its place: what imports and copies take so that nothing enters a synced doc in clear. */
export type Sealer = (value: Json, target: SealTarget) => Promise<string>

/**
 * The context a sealed value is bound to. A workspace has one globals doc, which may never be given an id: its
 * values are bound to the kind instead, so that setting an id later does not make them read as tampered.
 */
export const valueContext = (t: SealTarget): string =>
  t.docKind === 'globals' ? `globals/${t.rowId}` : t.ownerId === t.docId ? `${t.docId}/${t.rowId}` : `${t.docId}/${t.ownerId}/${t.rowId}`

/** A list of variables in some doc, and whether a variable's value must be sealed. */
export interface VariableList {
  readonly docKind: SealTarget['docKind']
  readonly docId: string
  readonly ownerId: string
  variables(): readonly Variable[]
  add(row: { id: string; key: string; value: Json; type?: string; enabled?: boolean; description?: string }): void
  update(rowId: string, patch: { value?: Json; key?: string; type?: string; enabled?: boolean; description?: string }): void
  conflicts(): readonly Conflict[]
  resolve(conflictId: string, choice: { pick: number } | { value: Json }): void
  /** Environments and globals: every value. Collections and folders: values of secret variables. */
  sealed(type: string): boolean
}

export const environmentVariables = (env: EnvironmentModel): VariableList => {
  const docKind = env.kind === 'globals' ? 'globals' : 'environment'
  return {
    docKind,
    docId: env.kind === 'globals' ? 'globals' : env.id,
    ownerId: env.kind === 'globals' ? 'globals' : env.id,
    variables: () => env.snapshot().variables,
    add: (row) => void env.addRow('variables', row),
    update: (rowId, patch) => env.updateRow('variables', rowId, patch),
    conflicts: () => env.conflicts(),
    resolve: (id, choice) => env.resolve(id, choice),
    sealed: (type) => mustSeal(docKind, type),
  }
}

/** A collection's own variables, or (with `folderId`) a folder's. */
export const collectionVariables = (col: CollectionModel, folderId?: string): VariableList => {
  const owner = folderId ?? col.id
  const own = () => (folderId === undefined ? col.snapshot().variables : (col.get(folderId) as { variables?: readonly Variable[] } | undefined)?.variables ?? [])
  const rows = new Set<string>()
  return {
    docKind: 'collection',
    docId: col.id,
    ownerId: owner,
    variables: own,
    add: (row) => void col.addRow(owner, 'variables', row),
    update: (rowId, patch) => col.updateRow(owner, 'variables', rowId, patch),
    conflicts: () => {
      rows.clear()
      for (const v of own()) rows.add(v.id)
      return col.conflicts().filter((c) => c.ownerId === owner && c.entityKind === 'variable' && rows.has(c.entityId))
    },
    resolve: (id, choice) => col.resolve(id, choice),
    sealed: (type) => mustSeal('collection', type),
  }
}

export const folderVariables = (col: CollectionModel, folderId: string): VariableList => collectionVariables(col, folderId)

const targetOf = (list: VariableList, rowId: string): SealTarget => ({ docKind: list.docKind, docId: list.docId, ownerId: list.ownerId, rowId })
const contextOf = (list: VariableList, rowId: string) => valueContext(targetOf(list, rowId))

const requireKey = (ring: Keyring) => {
  if (!ring.current) throw new CryptoError('NO_KEY', 'this account holds no current data key of the workspace')
  return ring.current
}

/** A variable as read: its value opened (or `locked`, or `tampered` with a reason). */
export type OpenVariable = Omit<Variable, 'value'> & {
  readonly value: Json
  readonly sealed: boolean
  readonly state: 'open' | 'locked' | 'tampered'
}

const open = async (list: VariableList, ring: Keyring, rowId: string, stored: Json): Promise<{ value: Json; sealed: boolean; state: OpenVariable['state'] }> => {
  if (sealedKid(stored) === undefined) return { value: stored, sealed: false, state: 'open' }
  try {
    const opened: Opened = await openValue(stored as string, ring, contextOf(list, rowId))
    return opened.state === 'open' ? { value: opened.value, sealed: true, state: 'open' } : { value: null, sealed: true, state: 'locked' }
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'TAMPERED') return { value: null, sealed: true, state: 'tampered' }
    throw e
  }
}

export const readVariables = async (list: VariableList, ring: Keyring): Promise<OpenVariable[]> =>
  Promise.all(list.variables().map(async (v) => ({ ...v, ...(await open(list, ring, v.id, v.value)) })))

export const addVariable = async (
  list: VariableList,
  ring: Keyring,
  row: { key: string; value: Json; type?: string; enabled?: boolean; description?: string },
): Promise<string> => {
  const id = newRowId()
  const value = list.sealed(row.type ?? 'default') ? await sealValue(row.value, requireKey(ring), contextOf(list, id)) : row.value
  list.add({ ...row, id, value })
  return id
}

export const setVariableValue = async (list: VariableList, ring: Keyring, rowId: string, value: Json): Promise<void> => {
  const v = list.variables().find((x) => x.id === rowId)
  if (!v) throw new CryptoError('NOT_SEALED', `no variable ${rowId}`)
  list.update(rowId, { value: list.sealed(v.type) ? await sealValue(value, requireKey(ring), contextOf(list, rowId)) : value })
}

/** A conflict on a variable's value with its alternatives opened, for the person choosing. */
export type OpenConflict = Omit<Conflict, 'alternatives'> & {
  readonly alternatives: readonly (Conflict['alternatives'][number] & { readonly sealed: boolean; readonly state: OpenVariable['state'] })[]
}

export const openConflict = async (list: VariableList, ring: Keyring, conflict: Conflict): Promise<OpenConflict> => ({
  ...conflict,
  alternatives: await Promise.all(
    conflict.alternatives.map(async (alt) => ({ ...alt, ...(await open(list, ring, conflict.entityId, alt.value)) })),
  ),
})

/** Resolves a value conflict with a new clear value (sealed before it is written). */
export const resolveWithValue = async (list: VariableList, ring: Keyring, conflict: Conflict, value: Json): Promise<void> => {
  const v = list.variables().find((x) => x.id === conflict.entityId)
  const sealed = !v || list.sealed(v.type)
  list.resolve(conflict.id, { value: sealed ? await sealValue(value, requireKey(ring), contextOf(list, conflict.entityId)) : value })
}

/** A Sealer under the keyring's current generation (throws NO_KEY without one). */
export const sealerFor =
  (ring: Keyring): Sealer =>
  (value, target) =>
    sealValue(value, requireKey(ring), valueContext(target))

/**
 * Seals, in place, every value of the list that must be sealed and is in clear (a doc that has not synced
 * anywhere yet, e.g. the scratch pad before it moves into a workspace). Returns how many it sealed.
 */
export const sealAll = async (list: VariableList, ring: Keyring): Promise<number> => {
  let count = 0
  for (const v of list.variables()) {
    if (!list.sealed(v.type) || isSealedValue(v.value)) continue
    list.update(v.id, { value: await sealValue(v.value, requireKey(ring), contextOf(list, v.id)) })
    count++
  }
  return count
}

/**
 * Changes a variable's type, sealing or opening its value in the same write when that changes whether it must
 * be sealed (a collection variable made `secret`, or no longer).
 */
export const setVariableType = async (list: VariableList, ring: Keyring, rowId: string, type: string): Promise<void> => {
  const v = list.variables().find((x) => x.id === rowId)
  if (!v) throw new CryptoError('NOT_SEALED', `no variable ${rowId}`)
  const was = isSealedValue(v.value)
  const now = list.sealed(type)
  if (was === now) return list.update(rowId, { type })
  const opened = await open(list, ring, rowId, v.value)
  if (opened.state !== 'open') throw new CryptoError('NO_KEY', `the value of ${v.key} cannot be opened here: its type cannot change`)
  list.update(rowId, { type, value: now ? await sealValue(opened.value, requireKey(ring), contextOf(list, rowId)) : opened.value })
}

/** Re-seals values sealed under an older generation with the current one (after removing a member). */
export const resealVariables = async (list: VariableList, ring: Keyring): Promise<number> => {
  const key = requireKey(ring)
  let count = 0
  for (const v of list.variables()) {
    const kid = sealedKid(v.value)
    if (kid === undefined || kid === key.kid) continue
    const opened = await openValue(v.value as string, ring, contextOf(list, v.id))
    if (opened.state !== 'open') continue
    list.update(v.id, { value: await sealValue(opened.value, key, contextOf(list, v.id)) })
    count++
  }
  return count
}
