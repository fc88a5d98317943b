/**
 * Sealed variables: shared values of environment and global variables (and of collection variables of type
 * `secret`) are sealed before they enter the Y.Doc and opened on read. Names stay in clear; values never.
 */
import type { CollectionModel, Conflict, EnvironmentModel, Json, Variable } from '@apisync/model'
import { newRowId } from '@apisync/model'
import { CryptoError } from './errors.js'
import type { Keyring } from './keyring.js'
import { type Opened, openValue, sealValue, sealedKid } from './seal.js'

/** A list of variables in some doc, and whether a variable's value must be sealed. */
export interface VariableList {
  /** The doc's id: part of each sealed value's context. */
  readonly docId: string
  readonly ownerId: string
  variables(): readonly Variable[]
  add(row: { id: string; key: string; value: Json; type?: string; enabled?: boolean; description?: string }): void
  update(rowId: string, patch: { value?: Json; key?: string; type?: string; enabled?: boolean; description?: string }): void
  conflicts(): readonly Conflict[]
  resolve(conflictId: string, choice: { pick: number } | { value: Json }): void
  /** Environments and globals: every value. Collections: values of secret variables. */
  sealed(type: string): boolean
}

export const environmentVariables = (env: EnvironmentModel): VariableList => ({
  // A workspace has one globals doc, which may never be given an id: bind its values to the kind instead, so
  // that setting an id later does not make them read as tampered.
  docId: env.kind === 'globals' ? 'globals' : env.id,
  ownerId: env.id,
  variables: () => env.snapshot().variables,
  add: (row) => void env.addRow('variables', row),
  update: (rowId, patch) => env.updateRow('variables', rowId, patch),
  conflicts: () => env.conflicts(),
  resolve: (id, choice) => env.resolve(id, choice),
  sealed: () => true,
})

export const collectionVariables = (col: CollectionModel): VariableList => ({
  docId: col.id,
  ownerId: col.id,
  variables: () => col.snapshot().variables,
  add: (row) => void col.addRow(col.id, 'variables', row),
  update: (rowId, patch) => col.updateRow(col.id, 'variables', rowId, patch),
  conflicts: () => col.conflicts(),
  resolve: (id, choice) => col.resolve(id, choice),
  sealed: (type) => type === 'secret',
})

const contextOf = (list: VariableList, rowId: string) => `${list.docId}/${rowId}`

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
    const opened: Opened = await openValue(stored as string, ring.keys, contextOf(list, rowId))
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

/** Re-seals values sealed under an older generation with the current one (after removing a member). */
export const resealVariables = async (list: VariableList, ring: Keyring): Promise<number> => {
  const key = requireKey(ring)
  let count = 0
  for (const v of list.variables()) {
    const kid = sealedKid(v.value)
    if (kid === undefined || kid === key.kid) continue
    const opened = await openValue(v.value as string, ring.keys, contextOf(list, v.id))
    if (opened.state !== 'open') continue
    list.update(v.id, { value: await sealValue(opened.value, key, contextOf(list, v.id)) })
    count++
  }
  return count
}
