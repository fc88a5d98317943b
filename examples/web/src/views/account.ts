/** Account pages: the devices (sessions) signed in to this account, and the account's key and recovery. */
import type { App } from '../app.js'
import { h } from '../dom.js'
import { accountKeys } from '../keys.js'
import { confirmRevoke } from './signed-out.js'
import { badge, button, empty, relativeTime } from './ui.js'

export function accountPage(app: App, page: 'sessions' | 'keys'): HTMLElement {
  if (!app.account) return h('div', { class: 'placeholder' }, 'Sign in to see your devices and keys.')
  return page === 'sessions' ? sessionsPage(app) : keysPage(app)
}

function sessionsPage(app: App): HTMLElement {
  const sessions = app.ui.sessions
  return h(
    'div',
    { class: 'editor', key: 'sessions', 'data-testid': 'sessions-page' },
    h('div', { class: 'breadcrumb' }, app.profile?.name ?? 'Account'),
    h(
      'div',
      { class: 'title-row' },
      h('h1', { class: 'title' }, 'Devices & sessions'),
      h('span', { class: 'spacer' }),
      button('Refresh', () => app.act(() => app.loadSessions())),
    ),
    h('p', { class: 'muted' }, 'Every app signed in to this account (the list refreshes every few seconds). Revoking one signs it out at once: its connections close and the relay refuses it from then on. Its unsynced edits stay on that device, kept as a backup.'),
    app.ui.sessionsError && h('p', { class: 'form-error' }, app.ui.sessionsError),
    !sessions
      ? empty('Loading…')
      : h(
          'table',
          { class: 'rows sessions', 'data-testid': 'sessions' },
          h('thead', null, h('tr', null, h('th', null, 'Device'), h('th', null, 'Browser'), h('th', null, 'Signed in'), h('th', null, 'Last seen'), h('th', null, 'Live'), h('th', { class: 'col-act' }))),
          h(
            'tbody',
            null,
            sessions.map((s) =>
              h(
                'tr',
                { key: s.sid, 'data-testid': 'session', 'data-device': s.device ?? '', 'data-current': s.current ? 'true' : 'false' },
                h('td', null, h('strong', null, s.device ?? 'unknown device'), s.current ? badge('this device', 'current') : null),
                h('td', { class: 'muted small ua' }, shortAgent(s.userAgent ?? '')),
                h('td', null, relativeTime(s.firstSeen)),
                h('td', null, relativeTime(s.lastSeen)),
                h('td', null, s.connections ? badge('online', 'pass') : h('span', { class: 'muted' }, 'offline')),
                h('td', { class: 'col-act' }, !s.current && button('Revoke…', () => confirmRevoke(app, s), { class: 'small danger', 'data-testid': 'revoke-session' })),
              ),
            ),
          ),
        ),
    sessions &&
      sessions.length > 1 &&
      h(
        'div',
        { class: 'inline-actions' },
        button(
          'Sign out all other devices',
          () =>
            app.openDialog({
              title: 'Sign out all other devices?',
              body: 'Every other app signed in to this account is signed out now. This device stays signed in.',
              fields: [],
              submit: 'Sign them out',
              danger: true,
              onSubmit: () => app.revokeOtherSessions(),
            }),
          { class: 'danger', 'data-testid': 'revoke-all' },
        ),
      ),
  )
}

const shortAgent = (ua: string): string => {
  const m = /(Firefox|Edg|Chrome|Chromium|Safari)\/([\d.]+)/.exec(ua)
  const os = /\(([^;)]+)/.exec(ua)?.[1] ?? ''
  return m ? `${m[1] === 'Edg' ? 'Edge' : m[1]} ${m[2]!.split('.')[0]} · ${os}` : ua.slice(0, 40)
}

function keysPage(app: App): HTMLElement {
  const account = app.account!
  const keys = accountKeys.get(account.id)
  const backedUp = accountKeys.backedUp(account.id)
  const code = app.memberCode()
  return h(
    'div',
    { class: 'editor', key: 'keys', 'data-testid': 'keys-page' },
    h('div', { class: 'breadcrumb' }, app.profile?.name ?? 'Account'),
    h('div', { class: 'title-row' }, h('h1', { class: 'title' }, 'Keys & recovery')),
    h(
      'p',
      { class: 'muted' },
      'Variable values are encrypted in this browser before they sync: the relay stores only ciphertext. Your account has one key; it lives on your devices, and in a backup locked with your recovery passphrase.',
    ),
    h(
      'div',
      { class: 'card' },
      h('h3', null, 'This device'),
      keys
        ? h('p', { 'data-testid': 'key-present' }, badge('key present', 'pass'), ' This browser can read and write encrypted values.')
        : h('p', { 'data-testid': 'key-missing' }, badge('no key', 'fail'), ' This browser does not have your account key yet.'),
      app.mySafetyCode && h('p', null, 'Safety code: ', h('code', { class: 'safety-code', 'data-testid': 'key-safety-code' }, app.mySafetyCode), h('span', { class: 'muted small' }, ' — members compare it with the one their devices show for you.')),
      h('p', { class: 'muted small' }, `Workspace keys: ${app.keyState}. Recovery: ${backedUp === 'relay' ? 'backup on the relay' : backedUp === 'file' ? 'backup file downloaded' : 'not set up from this device'}.`),
    ),
    keys &&
      h(
        'div',
        { class: 'card' },
        h('h3', null, 'Recovery passphrase'),
        h('p', { class: 'muted' }, 'Locks a copy of your key with a passphrase (PBES2, 210,000 rounds) so that your other devices can open it. The relay never sees the passphrase.'),
        button(
          backedUp ? 'Set a new recovery passphrase' : 'Set up recovery',
          () =>
            app.openDialog({
              title: 'Recovery passphrase',
              body: 'At least 8 characters. You need it on every new device.',
              fields: [
                { name: 'passphrase', label: 'Passphrase', type: 'password' },
                { name: 'again', label: 'Again', type: 'password' },
              ],
              submit: 'Lock and save the backup',
              onSubmit: async (v) => {
                if ((v.passphrase ?? '').length < 8) return 'use at least 8 characters'
                if (v.passphrase !== v.again) return 'the two do not match'
                await app.saveRecovery(v.passphrase!)
              },
            }),
          { class: 'primary', 'data-testid': 'setup-recovery' },
        ),
      ),
    !keys &&
      h(
        'div',
        { class: 'card' },
        h('h3', null, 'Recover your key'),
        h('p', { class: 'muted' }, 'Enter the recovery passphrase you set on your other device. The locked key comes from the relay, or from the backup file you saved there.'),
        button(
          'Recover with passphrase',
          () =>
            app.openDialog({
              title: 'Recover your key',
              fields: [
                { name: 'passphrase', label: 'Recovery passphrase', type: 'password' },
                { name: 'file', label: 'Backup file (if the relay has none)', type: 'file' },
              ],
              submit: 'Recover',
              onSubmit: (v, files) => app.recover(v.passphrase ?? '', files.file),
            }),
          { class: 'primary', 'data-testid': 'recover-key' },
        ),
      ),
    code &&
      h(
        'div',
        { class: 'card' },
        h('h3', null, 'Your member code'),
        h('p', { class: 'muted' }, 'Send it to the owner of a workspace you joined: pasting it in their Share dialog lets you read its values. It holds only your public key.'),
        h('textarea', { class: 'code', rows: '3', readOnly: true, value: code, 'data-testid': 'member-code', onclick: (e: MouseEvent) => (e.target as HTMLTextAreaElement).select() }),
      ),
  )
}
