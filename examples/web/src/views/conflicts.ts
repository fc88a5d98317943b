/**
 * The conflicts pane: every open conflict of the workspace, its alternatives side by side, one choice per
 * field. Choosing is an ordinary edit: it syncs, and the conflict closes on every device.
 */
import type { CollectionModel, Json } from '@apisync/model'
import type { App } from '../app.js'
import { h } from '../dom.js'
import type { ConflictEntry } from '../workspace-view.js'
import { button, clock, field, iconButton } from './ui.js'

const FIELD_LABEL: Record<string, string> = {
  url: 'URL',
  method: 'Method',
  name: 'Name',
  bodyMode: 'Body mode',
  bodyLanguage: 'Body language',
  bodyFile: 'Body file',
  auth: 'Auth',
  value: 'Value',
  key: 'Key',
  enabled: 'Enabled',
  type: 'Type',
  description: 'Description',
  position: 'Place in the tree',
  deleted: 'Deleted',
  code: 'Status code',
  status: 'Status text',
}

export function conflictsPane(app: App, conflicts: readonly ConflictEntry[]): HTMLElement {
  return h(
    'aside',
    { class: 'conflicts', 'aria-label': 'Conflicts', 'data-testid': 'conflicts-pane' },
    h('div', { class: 'pane-head' }, h('span', null, 'Conflicts'), h('span', { class: 'count' }, String(conflicts.length))),
    conflicts.length === 0
      ? h(
          'div',
          { class: 'empty' },
          h('div', { class: 'big-check' }, '✓'),
          'No conflicts. When two devices change the same field without seeing each other’s edit, both versions wait here for you to choose.',
        )
      : h('div', { class: 'conflict-list' }, conflicts.map((c) => conflictCard(app, c))),
  )
}

function conflictCard(app: App, entry: ConflictEntry): HTMLElement {
  const view = app.view!
  const { conflict: c, doc } = entry
  const ro = view.readOnly
  const where = locate(app, entry)
  const label = FIELD_LABEL[c.field] ?? c.field
  const alternatives = entry.opened?.alternatives ?? c.alternatives
  const resolve = (choice: Parameters<App['resolveConflict']>[2]) => app.act(() => app.resolveConflict(doc, c.id, choice))
  const members = new Map(view.ring.members.map((m) => [m.accountId, m.name]))
  // Secret values are masked here as in the variables table, until revealed.
  const secret = c.kind === 'value' && c.field === 'value' && isSecret(app, entry)
  const revealKey = `conflict:${c.id}`
  const masked = secret && !app.ui.revealed.has(revealKey)
  const who = (by: string | undefined) => (!by ? 'someone' : by === app.account?.id ? 'you' : (members.get(by) ?? by.slice(0, 8)))
  return h(
    'div',
    { key: c.id, class: 'conflict', 'data-testid': 'conflict', 'data-field': c.field, 'data-kind': c.kind },
    h('div', { class: 'conflict-where' }, where),
    h(
      'div',
      { class: 'conflict-title' },
      c.kind === 'delete' ? 'Deleted here, edited elsewhere' : c.kind === 'orphan' ? 'Its folder was deleted' : `${label}: ${alternatives.length} versions`,
    ),
    c.kind === 'value' &&
      h(
        'div',
        { class: 'alternatives', style: `grid-template-columns: repeat(${Math.min(alternatives.length, 3)}, minmax(0, 1fr))` },
        alternatives.map((alt, i) =>
          h(
            'div',
            { key: String(i), class: ['alternative', alt.winner && 'winner'], 'data-testid': 'alternative' },
            h('div', { class: 'alt-meta' }, who(alt.by), alt.at ? ` · ${clock(alt.at)}` : '', alt.winner ? h('span', { class: 'badge' }, 'shown now') : null),
            h(
              'pre',
              { class: 'alt-value', 'data-testid': 'alternative-value', 'data-masked': masked ? 'true' : 'false' },
              masked && (!('state' in alt) || (alt as { state: string }).state === 'open')
                ? '••••••••'
                : show(app, entry, alt.value, 'state' in alt ? (alt as { state: string }).state : 'open'),
            ),
            !ro && button('Keep this', () => resolve({ pick: i }), { class: 'small primary', 'data-testid': 'keep-alternative' }),
          ),
        ),
      ),
    secret &&
      iconButton(masked ? '◎' : '◉', masked ? 'Show the values' : 'Hide the values', () => {
        if (masked) app.ui.revealed.add(revealKey)
        else app.ui.revealed.delete(revealKey)
        app.invalidate()
      }, { class: 'subtle', 'data-testid': 'reveal-conflict' }),
    c.kind === 'value' &&
      !ro &&
      c.field !== 'position' &&
      h(
        'div',
        { class: 'conflict-custom' },
        field('', (v) => resolve({ clear: parseLike(v, alternatives[0]?.value ?? null) }), {
          live: false,
          placeholder: 'or type another value and press Enter',
          'aria-label': 'another value',
          ...(masked ? { type: 'password' } : {}),
        }),
      ),
    c.kind !== 'value' &&
      !ro &&
      h(
        'div',
        { class: 'inline-actions' },
        c.choices.map((choice) => button(CHOICE_LABEL[choice] ?? choice, () => resolve(choice), { key: choice, class: ['small', choice === 'restore' || choice === 'restore-parent' ? 'primary' : ''], 'data-testid': `choice-${choice}` })),
      ),
  )
}

const CHOICE_LABEL: Record<string, string> = {
  'keep-deleted': 'Keep it deleted',
  restore: 'Restore it',
  'restore-parent': 'Restore the folder',
  'move-to-root': 'Move to top level',
  delete: 'Delete it',
}

/** A value typed by the person, as the same kind of JSON as the field holds. */
const parseLike = (text: string, like: Json): Json => {
  if (typeof like === 'string' || like === null) return text
  try {
    return JSON.parse(text) as Json
  } catch {
    return text
  }
}

function show(app: App, entry: ConflictEntry, value: Json, state: string): string {
  if (state === 'locked') return '🔒 (encrypted: no key on this device)'
  if (state === 'tampered') return '⚠ (altered ciphertext)'
  if (entry.conflict.field === 'position' && value && typeof value === 'object' && !Array.isArray(value)) {
    const parent = (value as { parent?: unknown }).parent
    const model = entry.doc.kind === 'collection' ? app.view!.collections.get(entry.doc.id)?.model : undefined
    return typeof parent === 'string' ? `in “${model?.get(parent)?.name ?? parent}”` : 'at the top level'
  }
  if (typeof value === 'string') return value === '' ? '(empty)' : value
  return JSON.stringify(value, null, 2)
}

function locate(app: App, entry: ConflictEntry): string {
  const view = app.view!
  const { doc, conflict: c } = entry
  if (doc.kind === 'manifest') return 'Workspace settings'
  if (doc.kind === 'globals') return `Globals › ${variableKey(view.globals?.model.snapshot().variables, c.entityId)}`
  if (doc.kind === 'environment') {
    const env = view.environments.get(doc.id)?.model.snapshot()
    return `${env?.name || 'Environment'} › ${variableKey(env?.variables, c.entityId)}`
  }
  const model = view.collections.get(doc.id)?.model as CollectionModel | undefined
  const snap = model?.snapshot()
  const owner = c.ownerId === snap?.id ? null : model?.get(c.ownerId)
  const parts = [snap?.name || 'Collection']
  if (owner) parts.push(owner.name || owner.kind)
  else if (c.entityKind === 'request' || c.entityKind === 'folder') parts.push(`(deleted ${c.entityKind})`)
  if (c.entityKind !== 'request' && c.entityKind !== 'folder' && c.entityKind !== 'collection') parts.push(c.entityKind)
  return parts.join(' › ')
}

/** Whether the conflict is on the value of a variable the table masks (type `secret`). */
function isSecret(app: App, entry: ConflictEntry): boolean {
  const view = app.view!
  const { doc, conflict: c } = entry
  if (c.entityKind !== 'variable') return false
  const find = (vars: readonly { id: string; type: string }[] | undefined) => vars?.find((v) => v.id === c.entityId)?.type === 'secret'
  if (doc.kind === 'globals') return find(view.globals?.model.snapshot().variables)
  if (doc.kind === 'environment') return find(view.environments.get(doc.id)?.model.snapshot().variables)
  if (doc.kind !== 'collection') return false
  const model = view.collections.get(doc.id)?.model
  const snap = model?.snapshot()
  if (!snap) return true
  return c.ownerId === snap.id ? find(snap.variables) : find((model!.get(c.ownerId) as { variables?: readonly { id: string; type: string }[] } | undefined)?.variables)
}

const variableKey = (vars: readonly { id: string; key: string }[] | undefined, id: string) => vars?.find((v) => v.id === id)?.key ?? 'variable'
