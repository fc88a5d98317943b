/**
 * Sealed variable values in a workspace with encryption on. The model does no cryptography (that is
 * @apisync/crypto); it only refuses to store what must not be stored in clear, so that a host which forgets to
 * seal gets a ModelError instead of sending a secret to the relay.
 *
 * How a doc knows: the host (the client) marks each Y.Doc of an encrypted workspace with `requireSealedValues`,
 * and every doc written under that requirement carries `meta.sealed = true`, which every replica that sees it
 * honours from then on. Both only ever switch sealing on: a peer (or the relay) that clears the flag changes
 * nothing for a replica that saw it or whose host requires it.
 */
import * as Y from 'yjs'
import type { DocKind } from './doc.js'
import { ModelError } from './errors.js'
import type { Json } from './json.js'
import { fieldEntries } from './register.js'
import type { CollectionSnapshot, EnvironmentSnapshot, ItemSnapshot, Variable } from './types.js'

/** The JWE content type @apisync/crypto gives a sealed value. */
export const SEALED_VALUE_CTY = 'apisync-value'

/** Environments and globals: every value; collections and folders: values of `secret` variables. */
export const mustSeal = (docKind: DocKind, type: string): boolean =>
  docKind === 'environment' || docKind === 'globals' || (docKind === 'collection' && type === 'secret')

const B64URL = /^[A-Za-z0-9_-]+$/

/**
 * Whether a stored value has the form of a sealed value: a JWE compact (`dir`, A256GCM) whose protected header
 * names the sealed-value content type and a key generation. Form only: opening it is @apisync/crypto's job.
 */
export const isSealedValue = (value: unknown): boolean => {
  if (typeof value !== 'string') return false
  const parts = value.split('.')
  if (parts.length !== 5 || parts[1] !== '' || !parts.every((p, i) => i === 1 || B64URL.test(p))) return false
  try {
    const header = JSON.parse(atob(parts[0]!.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>
    return header.cty === SEALED_VALUE_CTY && header.alg === 'dir' && header.enc === 'A256GCM' && typeof header.kid === 'string'
  } catch {
    return false
  }
}

interface Requirement {
  when: (() => boolean) | undefined
  latched: boolean
}
const requirements = new WeakMap<Y.Doc, Requirement>()

/**
 * Marks a doc as belonging to a workspace with encryption on (from now, or from when `when` first returns
 * true): models on it then refuse plaintext values that must be sealed. There is no way to switch it off.
 */
export const requireSealedValues = (doc: Y.Doc, when?: () => boolean): void => {
  const r = requirements.get(doc)
  if (!r) requirements.set(doc, { when, latched: when === undefined })
  else if (when === undefined) r.latched = true
  else {
    const before = r.when
    r.when = before ? () => before() || when() : when
  }
}

/** Whether writes to this doc must seal variable values (and the answer stays yes once it was yes). */
export const sealingRequired = (doc: Y.Doc): boolean => {
  let r = requirements.get(doc)
  if (r?.latched) return true
  if (doc.getMap<unknown>('meta').get('sealed') === true || r?.when?.()) {
    if (!r) requirements.set(doc, (r = { when: undefined, latched: true }))
    r.latched = true
    return true
  }
  return false
}

const notSealed = (path: string, key?: unknown): ModelError =>
  new ModelError(
    'NOT_SEALED',
    `this workspace has encryption on: the value of ${typeof key === 'string' && key ? `“${key}”` : 'this variable'} must be sealed before it is written (@apisync/crypto: addVariable, setVariableValue, or an import with a seal function)`,
    path,
  )

/** The current type and value of a variable row, as a write sees it. */
export const variableRowState = (row: unknown): { type: string; value: Json | undefined; key: unknown } | undefined => {
  if (!(row instanceof Y.Map)) return undefined
  const type = fieldEntries(row, 'type')[0]?.v
  return { type: typeof type === 'string' ? type : 'default', value: fieldEntries(row, 'value')[0]?.v, key: fieldEntries(row, 'key')[0]?.v }
}

/**
 * Refuses a write to a variable row (a new row, or a patch of an existing one) that would leave a value in
 * clear where it must be sealed. Writes that touch neither value nor type pass (an old clear value may have
 * its description edited).
 */
export const checkSealedRow = (
  doc: Y.Doc,
  docKind: DocKind,
  current: { readonly type: string; readonly value: Json | undefined; readonly key?: unknown } | undefined,
  patch: Readonly<Record<string, unknown>>,
  path: string,
): void => {
  const touches = current === undefined || 'value' in patch || 'type' in patch
  if (!touches || !sealingRequired(doc)) return
  const type = typeof patch.type === 'string' ? patch.type : (current?.type ?? 'default')
  const value = 'value' in patch ? patch.value : current?.value
  if (mustSeal(docKind, type) && !isSealedValue(value)) throw notSealed(path, patch.key ?? current?.key)
}

/** The same check for the variable rows of a creation (`variables` of a collection, folder or environment). */
export const checkSealedRows = (doc: Y.Doc, docKind: DocKind, rows: unknown, path: string): void => {
  if (!Array.isArray(rows) || rows.length === 0 || !sealingRequired(doc)) return
  rows.forEach((row, i) => checkSealedRow(doc, docKind, undefined, (row ?? {}) as Record<string, unknown>, `${path}/variables[${i}]`))
}

/** Variables whose value must be sealed but is not: where they are, for a host that copies docs wholesale. */
export const unsealedValues = (
  docKind: DocKind,
  snapshot: CollectionSnapshot | EnvironmentSnapshot,
): { readonly ownerId: string; readonly variable: Variable }[] => {
  const out: { ownerId: string; variable: Variable }[] = []
  const scan = (ownerId: string, variables: readonly Variable[]) => {
    for (const v of variables) if (mustSeal(docKind, v.type) && !isSealedValue(v.value)) out.push({ ownerId, variable: v })
  }
  scan(snapshot.id, snapshot.variables)
  const walk = (items: readonly ItemSnapshot[]) => {
    for (const item of items) {
      if (item.kind !== 'folder') continue
      scan(item.id, item.variables)
      walk(item.items)
    }
  }
  if ('items' in snapshot) walk(snapshot.items)
  return out
}

/**
 * Whether a Y.Map is a variable row: a row of the `variables` list of a collection, folder, environment or
 * globals (nested lists sit under the entity's `variables` key, the root entity's in the `<kind>.variables` root map).
 */
export const isVariableRow = (map: Y.Map<unknown>, rootKind: string | undefined): boolean => {
  const list = map.parent
  if (!(list instanceof Y.Map)) return false
  if (list._item) return list._item.parentSub === 'variables'
  return rootKind !== undefined && map.doc !== null && list === map.doc.getMap(`${rootKind}.variables`)
}

/**
 * What an undo or redo step would write back into a variable row, checked as a write: the register values it
 * restores (`restored`, field → values: several when the step brings back a conflict's alternatives) against the
 * row as it is now. Returns the refusal, or undefined when the step writes nothing that must be sealed in clear.
 */
export const unsealedRestore = (
  doc: Y.Doc,
  docKind: DocKind,
  row: Y.Map<unknown>,
  restored: ReadonlyMap<string, readonly (Json | undefined)[]>,
  path: string,
): ModelError | undefined => {
  const types = restored.get('type')
  const values = restored.get('value')
  if (!types && !values) return undefined
  const current = variableRowState(row)
  for (const type of types ?? [current?.type ?? 'default']) {
    for (const value of values ?? [current?.value]) {
      if (mustSeal(docKind, typeof type === 'string' ? type : 'default') && !isSealedValue(value)) {
        const key = current?.key
        const what = typeof key === 'string' && key ? `“${key}”` : 'a variable'
        return new ModelError(
          'NOT_SEALED',
          `this workspace has encryption on: undoing or redoing this step would bring the value of ${what} back in clear, so it cannot be undone (the undo history up to it is dropped)`,
          path,
        )
      }
    }
  }
  return undefined
}
