/**
 * Screens for an account that cannot go on here: signed out (in another tab), signed out remotely (revoked),
 * deleted, or refused by the device limit; and the backups of unsynced changes kept in this browser.
 */
import type { DeviceSession, KeptBackup } from '@apisync/client'
import type { App } from '../app.js'
import { h } from '../dom.js'
import { downloadBytes } from '../files.js'
import { badge, button, relativeTime } from './ui.js'

const WHY: Record<string, string> = {
  'signed-out': 'You signed out in another tab.',
  revoked: 'This device was signed out remotely (from another device, or by the device limit).',
  deleted: 'This account was deleted.',
}

/** The account ended while this tab showed it: say so, offer what was not synced, and signing in again. */
export function endedScreen(app: App): HTMLElement {
  const ended = app.life.ended!
  const { end } = ended
  const late = app.life.lateChanges()
  const kept = end.backupId ? app.life.keptBackups.find((b) => b.id === end.backupId) : undefined
  return h(
    'div',
    { class: 'signin' },
    h(
      'div',
      { class: 'signin-card', 'data-testid': 'ended-screen', 'data-reason': end.reason, 'data-done': end.done ? 'true' : 'false' },
      h('div', { class: 'brand big' }, h('span', { class: 'logo' }, '◆'), 'apisync'),
      h('h2', null, end.reason === 'revoked' ? 'Signed out remotely' : end.reason === 'deleted' ? 'Account deleted' : 'Signed out'),
      h('p', { class: 'lead' }, `${WHY[end.reason] ?? ''} ${ended.name}’s data was deleted from this browser; nothing more is sent from it.`),
      !end.done && h('p', { class: 'muted' }, 'Finishing: storing what the relay lacks…'),
      end.done && end.pending === 0 && !late && h('p', { class: 'muted', 'data-testid': 'nothing-lost' }, 'Every change made here was on the relay: nothing was lost.'),
      end.done &&
        end.pending > 0 &&
        h(
          'div',
          { class: 'card', 'data-testid': 'ended-backup' },
          h('strong', null, `${end.pending} change${end.pending === 1 ? ' was' : 's were'} not on the relay yet.`),
          h('p', { class: 'muted' }, `${end.pending === 1 ? 'It is' : 'They are'} kept in this browser as a backup: sign in again and restore ${end.pending === 1 ? 'it' : 'them'}, or download the file and import it anywhere (account menu → Import backup).`),
          kept && button('Download the backup', () => app.life.downloadKept(kept), { class: 'primary', 'data-testid': 'download-kept' }),
        ),
      late &&
        h(
          'div',
          { class: 'card banner-error', 'data-testid': 'late-changes' },
          h('strong', null, 'Changes made in this tab after the sign-out are stored nowhere.'),
          h('p', { class: 'muted' }, 'They were never sent. Download them before closing this tab; Import backup puts them back.'),
          button('Download these changes', () => downloadBytes(`apisync-late-${ended.accountId.slice(0, 8)}.bin`, late), { class: 'primary', 'data-testid': 'download-late' }),
        ),
      h(
        'div',
        { class: 'inline-actions' },
        button(`Sign in again as ${ended.name}`, () => app.act(() => app.signInAgain()), { class: 'primary', 'data-testid': 'sign-in-again' }),
        button('Other account', () => {
          app.leaveAccount()
          app.invalidate()
        }),
      ),
    ),
  )
}

/** Backups of unsynced changes kept in this browser: restore into the shown account, download, discard. */
export function keptBackups(app: App, backups: readonly KeptBackup[], canRestore: boolean): HTMLElement | null {
  if (backups.length === 0) return null
  return h(
    'div',
    { class: 'card kept-backups', 'data-testid': 'kept-backups' },
    h('h3', null, 'Unsynced changes kept in this browser'),
    backups.map((b) =>
      h(
        'div',
        { key: b.id, class: 'kept-backup', 'data-testid': 'kept-backup' },
        h('span', { class: 'grow' }, `${b.accountName ?? b.accountId.slice(0, 8)}: ${b.pending} change${b.pending === 1 ? '' : 's'} (${b.reason === 'revoked' ? 'signed out remotely' : b.reason}) ${relativeTime(b.createdAt)}`),
        canRestore && button('Restore', () => app.act(() => app.life.restoreKept(b)), { class: 'small primary', 'data-testid': 'restore-kept' }),
        button('Download', () => app.life.downloadKept(b), { class: 'small' }),
        button(
          'Discard',
          () =>
            app.openDialog({
              title: 'Discard these changes?',
              body: 'They are not on the relay: discarding deletes them for good (download them first to keep a copy).',
              fields: [],
              submit: 'Discard',
              danger: true,
              onSubmit: () => app.life.discardKept(b),
            }),
          { class: 'small danger' },
        ),
      ),
    ),
  )
}

/** The device limit refused this device: who is connected, and a way to sign one out (after a confirmation). */
export function deviceLimitScreen(app: App): HTMLElement {
  const error = app.status!.error!
  const sessions: readonly DeviceSession[] = (app.ui.sessions ?? error.sessions ?? []).filter((s) => !s.current)
  return h(
    'div',
    { class: 'placeholder device-limit', 'data-testid': 'device-limit-screen' },
    h('h1', null, 'Too many devices'),
    h(
      'p',
      { class: 'lead' },
      `${app.profile?.name ?? 'This account'} is already connected on the most devices the relay allows. This one cannot sync until one of them signs out. Nothing is lost meanwhile: what you do here stays in this browser.`,
    ),
    h(
      'table',
      { class: 'rows sessions' },
      h('thead', null, h('tr', null, h('th', null, 'Device'), h('th', null, 'Last seen'), h('th', { class: 'col-act' }))),
      h(
        'tbody',
        null,
        sessions.map((s) =>
          h(
            'tr',
            { key: s.sid, 'data-testid': 'limit-session', 'data-device': s.device ?? '' },
            h('td', null, h('strong', null, s.device ?? 'unknown device'), s.connections ? badge('online', 'pass') : null),
            h('td', null, relativeTime(s.lastSeen)),
            h('td', { class: 'col-act' }, button('Sign it out…', () => confirmRevoke(app, s), { class: 'small danger', 'data-testid': 'revoke-session' })),
          ),
        ),
      ),
    ),
    sessions.length === 0 && h('p', { class: 'muted' }, 'Loading the list of devices…'),
    h(
      'div',
      { class: 'inline-actions' },
      button('Try again', () => app.account?.reconnect(), {}),
      button('Work offline for now', () => {
        app.ui.deviceLimitDismissed = true
        app.invalidate()
      }),
    ),
  )
}

/** Asks before signing a session out (it loses its connection at once; its unsynced work stays there). */
export function confirmRevoke(app: App, s: DeviceSession): void {
  app.openDialog({
    title: `Sign out “${s.device ?? 'unknown device'}”?`,
    body: 'It is signed out at once: its connections close and the relay refuses it from then on. Changes it has not synced stay on that device, kept as a backup.',
    fields: [],
    submit: 'Sign it out',
    danger: true,
    onSubmit: () => app.revokeSession(s.sid),
  })
}
