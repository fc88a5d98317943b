/** The frame: top bar (workspace, sync indicator, accounts), the three panes, the status bar, overlays. */
import type { App, Dialog } from '../app.js'
import { h, memo } from '../dom.js'
import { conflictsPane } from './conflicts.js'
import { envPicker } from './env-picker.js'
import { mainPane } from './main-pane.js'
import { sidebar, sidebarState } from './sidebar.js'
import { treeSignature } from './tree-virtual.js'
import { deviceLimitScreen, endedScreen, keptBackups } from './signed-out.js'
import { signInScreen } from './signin.js'
import { pickFiles } from '../files.js'
import { button, clock, iconButton } from './ui.js'

export function shell(app: App): HTMLElement {
  if (!app.booted) return h('div', { class: 'boot' }, 'Loading…')
  if (app.life.ended) return h('div', { class: 'root' }, endedScreen(app), overlays(app))
  if (!app.view) return h('div', { class: 'root' }, signInScreen(app), overlays(app))
  const deviceLimit = app.status?.error?.reason === 'device-limit' && !app.ui.deviceLimitDismissed
  const conflicts = app.view.conflicts()
  // The pane takes room only when there is something in it (the top bar's button shows the count).
  const showConflicts = app.ui.conflictsOpen && conflicts.length > 0
  return h(
    'div',
    {
      class: ['root', 'app', showConflicts && 'with-conflicts'],
      onclick: () => {
        if (app.ui.menu || app.ui.accountMenuOpen || app.ui.statusOpen) {
          app.ui.menu = null
          app.ui.accountMenuOpen = false
          app.ui.statusOpen = false
          app.invalidate()
        }
      },
    },
    topBar(app, conflicts.length),
    banners(app),
    h(
      'div',
      { class: 'panes' },
      memo(
        'sidebar',
        [app.view, app.view.manifest.snapshot(), treeSignature(app, app.view), sidebarState(app)],
        () => sidebar(app),
      ),
      deviceLimit ? h('main', { class: 'main' }, deviceLimitScreen(app)) : mainPane(app),
      showConflicts && conflictsPane(app, conflicts),
    ),
    statusBar(app),
    overlays(app),
  )
}

const STATE_LABEL: Record<string, string> = { offline: 'OFFLINE', connecting: 'CONNECTING', syncing: 'SYNCING', 'in-sync': 'IN SYNC', error: 'STOPPED' }

const REASON: Record<string, string> = {
  revoked: 'This device was signed out remotely',
  'device-limit': 'Too many devices of this account are connected',
  forbidden: 'The relay refuses this workspace',
  unauthorized: 'The relay does not accept this sign-in',
  'bad-request': 'The relay could not read a change',
  'too-large': 'A change is too large for the relay',
  rejected: 'The relay stopped syncing',
  'read-only': 'You can only view this workspace: your edits stay on this device',
  storage: 'This browser refused to store data',
}

export function syncIndicator(app: App): HTMLElement {
  const s = app.status
  const state = app.view?.local ? 'offline' : (s?.state ?? 'offline')
  const pending = s?.pending ?? 0
  const title = app.view?.local ? 'The scratch pad is on this device only' : s?.error ? `${REASON[s.error.reason] ?? s.error.reason}: ${s.error.message}` : 'Sync status'
  return h(
    'div',
    { class: 'sync-wrap' },
    h(
      'button',
      {
        type: 'button',
        class: ['sync', `sync-${state}`],
        'data-testid': 'sync-indicator',
        'data-state': state,
        'data-pending': String(pending),
        title,
        onclick: (e: MouseEvent) => {
          e.stopPropagation()
          app.ui.statusOpen = !app.ui.statusOpen
          app.invalidate()
        },
      },
      h('span', { class: 'dot' }),
      h('span', { class: 'sync-label' }, app.view?.local ? 'LOCAL ONLY' : STATE_LABEL[state]),
      pending > 0 && h('span', { class: 'pending', 'data-testid': 'pending-count' }, `${pending} pending`),
    ),
    h(
      'div',
      { class: ['popover', 'sync-popover', app.ui.statusOpen && 'open'], onclick: (e: MouseEvent) => e.stopPropagation() },
      h('div', { class: 'popover-title' }, 'Sync'),
      h(
        'p',
        { class: 'muted' },
        state === 'in-sync'
          ? 'The relay has stored every change made here.'
          : state === 'syncing'
            ? 'Connected: sending and receiving changes.'
            : state === 'connecting'
              ? 'The relay is out of reach: edits are kept in this browser and sent when it is back.'
              : state === 'error'
                ? title
                : 'Not connected.',
      ),
      s && h('p', { class: 'muted' }, `${s.docs} open doc${s.docs === 1 ? '' : 's'} · ${s.pending} change${s.pending === 1 ? '' : 's'} not on the relay yet`),
      h('div', { class: 'popover-title' }, 'Recent'),
      // Built only while open: nobody reads it otherwise.
      app.ui.statusOpen &&
        h(
          'ol',
          { class: 'history', 'data-testid': 'sync-history' },
          app.statusHistory.map((e, i) => h('li', { key: String(i), 'data-state': e.state }, h('span', { class: ['dot', `dot-${e.state}`] }), `${STATE_LABEL[e.state]} `, h('span', { class: 'muted' }, clock(e.at)))),
        ),
    ),
  )
}

function topBar(app: App, conflictCount: number): HTMLElement {
  const view = app.view!
  const m = view.manifest.snapshot()
  return h(
    'header',
    { class: 'topbar' },
    h('div', { class: 'brand' }, h('span', { class: 'logo' }, '◆'), 'apisync'),
    h(
      'div',
      { class: 'ws-title', 'data-testid': 'workspace-title' },
      view.local ? 'Scratch pad' : m.name || (view.manifestSynced ? 'Untitled workspace' : 'Loading workspace…'),
      view.readOnly && h('span', { class: 'badge badge-viewer', 'data-testid': 'viewer-badge' }, 'view only'),
    ),
    h('div', { class: 'spacer' }),
    envPicker(app),
    syncIndicator(app),
    h(
      'button',
      {
        type: 'button',
        class: ['conflicts-toggle', conflictCount > 0 && 'has-conflicts'],
        'data-testid': 'conflicts-toggle',
        onclick: () => {
          app.ui.conflictsOpen = !app.ui.conflictsOpen
          app.invalidate()
        },
      },
      '⚑ Conflicts',
      h('span', { class: 'count', 'data-testid': 'conflict-count' }, String(conflictCount)),
    ),
    accountSwitcher(app),
  )
}

const initials = (name: string) =>
  name
    .split(/\s+/)
    .map((p) => p[0] ?? '')
    .join('')
    .slice(0, 2)
    .toUpperCase() || '?'

function accountSwitcher(app: App): HTMLElement {
  const accounts = app.client.getSnapshot().accounts
  const profile = app.profile
  const current = app.account
  return h(
    'div',
    { class: 'account-wrap' },
    h(
      'button',
      {
        type: 'button',
        class: 'account-btn',
        'data-testid': 'account-button',
        onclick: (e: MouseEvent) => {
          e.stopPropagation()
          app.ui.accountMenuOpen = !app.ui.accountMenuOpen
          app.invalidate()
        },
      },
      h('span', { class: 'avatar' }, initials(profile?.name ?? 'Scratch')),
      h('span', { class: 'account-name' }, profile ? profile.name : 'Not signed in', h('small', null, profile ? profile.device : 'scratch pad')),
      '▾',
    ),
    h(
      'div',
      { class: ['popover', 'account-menu', app.ui.accountMenuOpen && 'open'], 'data-testid': 'account-menu', onclick: (e: MouseEvent) => e.stopPropagation() },
      h('div', { class: 'popover-title' }, 'Accounts on this device'),
      accounts.map((a) => {
        const p = a.id === current?.id ? profile : null
        return h(
          'button',
          {
            type: 'button',
            key: a.id,
            class: ['menu-item', a.id === current?.id && 'current'],
            'data-testid': 'account-option',
            onclick: () => {
              app.ui.accountMenuOpen = false
              app.act(() => app.switchAccount(a.id))
            },
          },
          h('span', { class: 'avatar small' }, initials(p?.name ?? personName(a.id) ?? '?')),
          accountLabel(a.id, a.name),
          a.id === current?.id && h('span', { class: 'muted' }, ' · current'),
        )
      }),
      h('div', { class: 'menu-sep' }),
      menuButton(app, '+ Add another account', () => app.openDialog(signInDialog(app)), 'add-account'),
      menuButton(app, 'Scratch pad (local only)', () => app.act(() => app.openScratchPad()), 'open-scratch'),
      current && h('div', { class: 'menu-sep' }),
      current && menuButton(app, 'Devices & sessions', () => app.select({ kind: 'sessions' }), 'open-sessions'),
      current && menuButton(app, 'Keys & recovery', () => app.select({ kind: 'keys' }), 'open-keys'),
      current && menuButton(app, 'Import backup…', () => app.act(() => importBackup(app)), 'import-backup'),
      current && menuButton(app, 'Sign out', () => app.openDialog(signOutDialog(app)), 'sign-out', true),
      current && menuButton(app, 'Delete account…', () => app.openDialog(deleteDialog(app)), 'delete-account', true),
    ),
  )
}

/** The person's name this browser keeps for an account (the token's `name` claim is the device's). */
function personName(id: string): string | null {
  const raw = localStorage.getItem(`apisync-web:profile:${id}`)
  return raw ? ((JSON.parse(raw) as { name?: string }).name ?? null) : null
}

/** Account records keep the token's `name` claim, which dev auth sets to the device: show the stored profile. */
function accountLabel(id: string, device: string | null): string {
  const raw = localStorage.getItem(`apisync-web:profile:${id}`)
  const p = raw ? (JSON.parse(raw) as { name: string; device: string }) : null
  return p ? `${p.name} (${p.device})` : (device ?? id.slice(0, 8))
}

function menuButton(app: App, label: string, action: () => void, testid: string, danger = false): HTMLElement {
  const onclick = () => {
    app.ui.accountMenuOpen = false
    action()
    app.invalidate()
  }
  return h('button', { type: 'button', class: ['menu-item', danger && 'danger'], 'data-testid': testid, onclick }, label)
}

export function signInDialog(app: App): Dialog {
  return {
    title: 'Sign in',
    body: 'Dev sign-in: the relay issues a token for any name. The same name on another device is the same account.',
    fields: [
      { name: 'name', label: 'Your name', placeholder: 'Alice' },
      { name: 'device', label: 'This device', value: guessDevice(), placeholder: 'Laptop' },
    ],
    submit: 'Sign in',
    onSubmit: async (v) => {
      if (!v.name?.trim()) return 'enter a name'
      await app.signIn(v.name, v.device?.trim() || guessDevice())
    },
  }
}

export const guessDevice = (): string => {
  const ua = navigator.userAgent
  const os = /Windows/.test(ua) ? 'Windows' : /Mac OS/.test(ua) ? 'Mac' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Linux/.test(ua) ? 'Linux' : 'Browser'
  const browser = /Firefox/.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : /Chrome|Chromium/.test(ua) ? 'Chrome' : /Safari/.test(ua) ? 'Safari' : 'browser'
  return `${browser} on ${os}`
}

function signOutDialog(app: App): Dialog {
  const id = app.account!.id
  const backedUp = localStorage.getItem(`apisync-web:key-backup:${id}`) !== null
  return {
    title: `Sign out ${app.profile?.name ?? ''}`,
    body: 'Deletes this account’s data from this browser (it stays on the relay and your other devices). Changes the relay does not have yet are never dropped silently.',
    fields: [
      {
        name: 'forget',
        label: 'Also remove this account’s encryption key from this browser',
        type: 'checkbox',
        value: backedUp ? 'on' : '',
        hint: backedUp ? 'You set a recovery passphrase: you can get it back.' : 'No recovery passphrase was set from here: keep it unless another device has it.',
      },
    ],
    submit: 'Sign out',
    danger: true,
    onSubmit: (v) => app.signOut(v.forget === 'on'),
  }
}

function deleteDialog(app: App): Dialog {
  return {
    title: `Delete the account ${app.profile?.name ?? ''}?`,
    body: 'The relay deletes its sessions and the workspaces it owns, for every device and everyone they were shared with; this browser deletes its data. Workspaces of others it joined stay theirs. This cannot be undone.',
    fields: [],
    submit: 'Delete the account',
    danger: true,
    onSubmit: () => app.deleteAccount(),
  }
}

/** Import backup: a `.bin` file from a sign-out, a revocation or an export, merged into this account. */
async function importBackup(app: App): Promise<void> {
  const [file] = await pickFiles('.bin,application/octet-stream', false)
  if (file) await app.importBackupFile(file)
}

function banners(app: App): HTMLElement {
  const s = app.status
  const items: HTMLElement[] = []
  const unstored = app.view?.storedState() === false && s?.error?.reason === 'storage'
  if (unstored || (s?.error?.reason === 'storage' && app.view))
    items.push(
      h(
        'div',
        { class: 'banner banner-error', 'data-testid': 'storage-banner' },
        h('strong', null, 'This browser refused to store your changes. '),
        `${s?.error?.message ?? ''} They are kept in this tab only: export them before closing it, then free some space. `,
        button('Export unsaved changes', () => app.life.exportUnsaved(), { class: 'small', 'data-testid': 'export-unsaved' }),
      ),
    )
  else if (s?.error?.reason === 'device-limit' && app.ui.deviceLimitDismissed)
    items.push(
      h(
        'div',
        { class: 'banner banner-error', 'data-testid': 'device-limit-banner' },
        h('strong', null, `${REASON['device-limit']}. `),
        'Sign one of them out to sync here; your edits are kept meanwhile. ',
        button('See devices', () => app.select({ kind: 'sessions' }), { class: 'small' }),
      ),
    )
  else if (s?.error)
    items.push(h('div', { class: 'banner banner-error', 'data-testid': 'error-banner' }, h('strong', null, `${REASON[s.error.reason] ?? 'Sync stopped'}. `), s.error.message))
  const kept = app.account ? keptBackups(app, app.life.backupsFor(app.account.id), true) : null
  if (kept) items.push(h('div', { class: 'banner banner-warn' }, kept))
  if (app.view && !app.view.local) {
    if (app.keyState === 'no-key')
      items.push(
        h(
          'div',
          { class: 'banner banner-warn', 'data-testid': 'no-key-banner' },
          h('strong', null, 'Encrypted values are locked on this device. '),
          'Your account’s key is on your other device: recover it with your passphrase. ',
          button('Recover key', () => app.select({ kind: 'keys' }), { class: 'small' }),
        ),
      )
    else if (app.keyState === 'not-member')
      items.push(
        h(
          'div',
          { class: 'banner banner-info', 'data-testid': 'not-member-banner' },
          'Variable values of this workspace are encrypted for its members. Send an admin your member code (Keys & recovery) to read them.',
        ),
      )
    else if (app.keyState === 'pending' || app.keyState === 'unverified')
      items.push(
        h(
          'div',
          { class: 'banner banner-warn', 'data-testid': `${app.keyState}-banner` },
          app.keyState === 'pending'
            ? 'You are a member, but an admin has to share the current key with you before you can write encrypted values (it happens when one opens this workspace). '
            : "This workspace's keys are not verified: encrypted values open, but nothing new is sealed until its owner re-signs them. ",
          button('Members & keys', () => app.select({ kind: 'members' }), { class: 'small' }),
        ),
      )
    const mismatch = app.view.ring.notices.find((n) => n.code === 'TOKEN_KEY_MISMATCH')
    if (mismatch)
      items.push(
        h(
          'div',
          { class: 'banner banner-error', 'data-testid': 'token-key-mismatch-banner' },
          h('strong', null, 'This device does not hold your account’s key. '),
          `${mismatch.message.charAt(0).toUpperCase()}${mismatch.message.slice(1)}. `,
          button('Keys & recovery', () => app.select({ kind: 'keys' }), { class: 'small' }),
        ),
      )
    if (app.view.ring.notices.some((n) => n.code === 'KEY_CHANGED'))
      items.push(
        h(
          'div',
          { class: 'banner banner-error', 'data-testid': 'key-change-banner' },
          h('strong', null, "A member's keys changed. "),
          'Compare their new safety code with them before trusting it. ',
          button('Members & keys', () => app.select({ kind: 'members' }), { class: 'small' }),
        ),
      )
    else if (app.needsRecoverySetup && app.keyState === 'ready')
      items.push(
        h(
          'div',
          { class: 'banner banner-info', 'data-testid': 'recovery-banner' },
          'Set a recovery passphrase so that your other devices can read encrypted values. ',
          button('Set up recovery', () => app.select({ kind: 'keys' }), { class: 'small' }),
          iconButton('✕', 'Later', () => {
            app.needsRecoverySetup = false
            app.invalidate()
          }, { class: 'subtle' }),
        ),
      )
    if (app.scratchItems > 0 && !app.view.readOnly)
      items.push(
        h(
          'div',
          { class: 'banner banner-info', 'data-testid': 'adopt-banner' },
          `Your scratch pad holds ${app.scratchItems} collection(s) or environment(s). `,
          button('Move them into this workspace', () => app.act(() => app.adoptScratchPad()), { class: 'small', 'data-testid': 'adopt-scratch' }),
        ),
      )
  }
  if (app.view?.local)
    items.push(
      h(
        'div',
        { class: 'banner banner-info', 'data-testid': 'scratch-banner' },
        h('strong', null, 'Scratch pad. '),
        'Everything here stays in this browser. Sign in to sync it and keep it. ',
        button('Sign in', () => app.openDialog(signInDialog(app)), { class: 'small' }),
      ),
    )
  // Always there (empty or not): the frame's grid has a row for it.
  return h('div', { class: 'banners' }, items)
}

function statusBar(app: App): HTMLElement {
  const view = app.view!
  const s = app.status
  const role = view.local ? 'local' : (view.workspace.role ?? '—')
  return h(
    'footer',
    { class: 'statusbar' },
    h('span', null, app.profile ? `${app.profile.name} · ${app.profile.device}` : 'No account'),
    h('span', null, `role: ${role}`),
    !view.local && h('span', { 'data-testid': 'key-state' }, `keys: ${app.keyState}`),
    s && h('span', null, `${s.docs} docs open`),
    h('span', { class: 'spacer' }),
    h('span', { class: 'muted' }, view.local ? 'local only' : `relay ${app.relayUrl}`),
  )
}

function overlays(app: App): (HTMLElement | null)[] {
  return [menu(app), dialog(app), toast(app)]
}

function menu(app: App): HTMLElement | null {
  const m = app.ui.menu
  if (!m) return null
  return h(
    'div',
    { class: 'menu', role: 'menu', 'data-testid': 'context-menu', style: `left:${Math.min(m.x, window.innerWidth - 220)}px;top:${Math.min(m.y, window.innerHeight - 40 * m.items.length - 10)}px`, onclick: (e: MouseEvent) => e.stopPropagation() },
    m.items.map((item, i) =>
      h(
        'button',
        {
          type: 'button',
          key: String(i),
          role: 'menuitem',
          class: ['menu-item', item.danger && 'danger'],
          disabled: !!item.disabled,
          onclick: () => {
            app.ui.menu = null
            app.act(item.action)
          },
        },
        item.label,
      ),
    ),
  )
}

function dialog(app: App): HTMLElement | null {
  const d = app.ui.dialog
  if (!d) return null
  const submit = (e: Event) => {
    e.preventDefault()
    const form = e.currentTarget as HTMLFormElement
    const values: Record<string, string> = {}
    const files: Record<string, File | undefined> = {}
    for (const f of d.fields) {
      const el = form.elements.namedItem(f.name) as HTMLInputElement | null
      if (!el) continue
      if (f.type === 'file') files[f.name] = el.files?.[0]
      else if (f.type === 'checkbox') values[f.name] = el.checked ? 'on' : ''
      else values[f.name] = el.value
    }
    void app.submitDialog(values, files)
  }
  const close = () => {
    app.ui.dialog = null
    app.invalidate()
  }
  return h(
    'div',
    { class: 'modal-backdrop', onclick: close },
    h(
      'form',
      { class: 'modal', role: 'dialog', 'aria-label': d.title, 'data-testid': 'dialog', onsubmit: submit, onclick: (e: MouseEvent) => e.stopPropagation(), onkeydown: (e: KeyboardEvent) => e.key === 'Escape' && close() },
      h('h2', null, d.title),
      d.body && h('p', { class: 'muted' }, d.body),
      d.fields.map((f, i) =>
        h(
          'label',
          { key: f.name, class: ['form-field', f.type === 'checkbox' && 'check-field'] },
          f.type !== 'checkbox' && h('span', null, f.label),
          f.type === 'select'
            ? h('select', { name: f.name, value: f.value ?? '' }, (f.options ?? []).map((o) => h('option', { value: o.value }, o.label)))
            : f.type === 'textarea'
              ? h('textarea', { name: f.name, rows: '4', placeholder: f.placeholder ?? '', autofocus: i === 0 }, f.value ?? '')
              : f.type === 'checkbox'
                ? h('input', { type: 'checkbox', name: f.name, checked: f.value === 'on' })
                : h('input', { name: f.name, type: f.type ?? 'text', value: f.value ?? '', placeholder: f.placeholder ?? '', autofocus: i === 0, autocomplete: 'off', 'aria-label': f.label }),
          f.type === 'checkbox' && h('span', null, f.label),
          f.hint && h('small', { class: 'muted hint' }, f.hint),
        ),
      ),
      d.error && h('p', { class: 'form-error', 'data-testid': 'dialog-error' }, d.error),
      h(
        'div',
        { class: 'modal-actions' },
        h('button', { type: 'button', class: 'btn', onclick: close }, d.cancel ?? 'Cancel'),
        h('button', { type: 'submit', class: ['btn', d.danger ? 'danger' : 'primary'], disabled: !!d.busy, 'data-testid': 'dialog-submit' }, d.busy ? 'Working…' : d.submit),
      ),
    ),
  )
}

function toast(app: App): HTMLElement | null {
  const t = app.ui.toast
  if (!t) return null
  return h('div', { class: ['toast', `toast-${t.kind}`], role: 'status', 'data-testid': `toast-${t.kind}`, key: String(t.id) }, t.text)
}
