/**
 * The conflicts pane: every open conflict of the workspace, its alternatives side by side, one choice per
 * field. Choosing is an ordinary edit: it syncs, and the conflict closes on every device.
 */
import type { CollectionModel, Json } from '@apisync/model'
import type { App } from '../app.js'
import { h } from '../dom.js'
import type { ConflictEntry } from '../workspace-view.js'
import { deleteSentence, isHere, subjectOf, whoWrote } from './deleted.js'
import { button, clock, field, iconButton } from './ui.js'

const FIELD_LABEL: Record<string, string> = {
  url: 'URL',
  method: 'Method',
  name: 'Name',
  bodyMode: 'Body mode (an edit of another mode’s content)',
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
  // Secret values are masked here as in the variables table, until revealed.
  const secret = c.kind === 'value' && c.field === 'value' && isSecret(app, entry)
  const revealKey = `conflict:${c.id}`
  const masked = secret && !app.ui.revealed.has(revealKey)
  const subject = subjectOf(c)
  const title =
    c.kind === 'delete'
      ? deleteSentence(app, c)
      : c.kind === 'orphan'
        ? `${subject || 'It'} — its folder “${folderName(app, entry, c.alternatives[0]?.value)}” was deleted`
        : c.kind === 'duplicate'
          ? `${subject || 'It'} — created with the same id on two devices; both are kept`
          : `${label}: ${alternatives.length} versions`
  return h(
    'div',
    { key: c.id, class: 'conflict', 'data-testid': 'conflict', 'data-field': c.field, 'data-kind': c.kind },
    h('div', { class: 'conflict-where' }, where),
    h('div', { class: 'conflict-title', 'data-testid': 'conflict-title' }, title),
    c.kind !== 'value' &&
      h(
        'ul',
        { class: 'conflict-sides' },
        c.alternatives.map((alt, i) =>
          h('li', { key: String(i), 'data-testid': 'conflict-side' }, `${String(alt.value)} — ${whoWrote(app, alt)}${isHere(app, alt) ? ' (this device)' : ''}${alt.at ? ` · ${clock(alt.at)}` : ''}`),
        ),
      ),
    c.kind === 'value' &&
      h(
        'div',
        { class: 'alternatives', style: `grid-template-columns: repeat(${Math.min(alternatives.length, 3)}, minmax(0, 1fr))` },
        alternatives.map((alt, i) =>
          h(
            'div',
            { key: String(i), class: ['alternative', alt.winner && 'winner'], 'data-testid': 'alternative' },
            h('div', { class: 'alt-meta', 'data-testid': 'alternative-who' }, whoWrote(app, alt), alt.at ? ` · ${clock(alt.at)}` : '', alt.winner ? h('span', { class: 'badge' }, 'shown now') : null),
            h(
              'pre',
              { class: 'alt-value', 'data-testid': 'alternative-value', 'data-masked': masked ? 'true' : 'false' },
              masked && (!('state' in alt) || (alt as { state: string }).state === 'open')
                ? '••••••••'
                : show(app, entry, alt.value, 'state' in alt ? (alt as { state: string }).state : 'open'),
            ),
            alt.invalid && h('div', { class: 'muted' }, alt.invalid === 'DELETED' ? 'its folder is deleted' : alt.invalid === 'CYCLE' ? 'that folder is inside it now' : 'not possible any more'),
            !ro && !alt.invalid && button('Keep this', () => resolve({ pick: i }), { class: 'small primary', 'data-testid': 'keep-alternative' }),
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
  'keep-both': 'Keep both',
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

function folderName(app: App, entry: ConflictEntry, id: Json | undefined): string {
  const model = entry.doc.kind === 'collection' ? app.view!.collections.get(entry.doc.id)?.model : undefined
  return typeof id === 'string' ? (model?.get(id)?.name ?? model?.getDeleted(id)?.name ?? id) : ''
}

function show(app: App, entry: ConflictEntry, value: Json, state: string): string {
  if (state === 'locked') return '🔒 (encrypted: no key on this device)'
  if (state === 'tampered') return '⚠ (altered ciphertext)'
  // A URL conflict's alternatives are whole URLs: the raw URL says it all.
  const raw = entry.conflict.field === 'url' && value && typeof value === 'object' && !Array.isArray(value) ? (value as { raw?: Json }).raw : undefined
  if (typeof raw === 'string') return raw || '(empty)'
  if (entry.conflict.field === 'position' && value && typeof value === 'object' && !Array.isArray(value)) {
    const parent = (value as { parent?: unknown }).parent
    const model = entry.doc.kind === 'collection' ? app.view!.collections.get(entry.doc.id)?.model : undefined
    return typeof parent === 'string' ? `in “${model?.get(parent)?.name ?? model?.getDeleted(parent)?.name ?? parent}”` : 'at the top level'
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
  const parts = [snap?.name || 'Collection']
  // The model names the item and the folders around it (also when it is deleted).
  if (c.name !== undefined) parts.push(...(c.where ?? []), c.name || 'Untitled')
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
