/** The first screen: dev sign-in, accounts already on this device, or the scratch pad. */
import type { App } from '../app.js'
import { h } from '../dom.js'
import { guessDevice } from './shell.js'
import { keptBackups } from './signed-out.js'
import { button } from './ui.js'

export function signInScreen(app: App): HTMLElement {
  const accounts = app.client.getSnapshot().accounts
  const submit = (e: Event) => {
    e.preventDefault()
    const form = e.currentTarget as HTMLFormElement
    const name = (form.elements.namedItem('name') as HTMLInputElement).value.trim()
    const device = (form.elements.namedItem('device') as HTMLInputElement).value.trim() || guessDevice()
    if (!name) return app.toast('Enter a name to sign in', 'error')
    app.act(() => app.signIn(name, device))
  }
  return h(
    'div',
    { class: 'signin' },
    h(
      'div',
      { class: 'signin-card' },
      h('div', { class: 'brand big' }, h('span', { class: 'logo' }, '◆'), 'apisync'),
      h('p', { class: 'lead' }, 'An API workspace that works offline, syncs across your devices and team, and shows you conflicts instead of losing edits.'),
      h(
        'form',
        { class: 'signin-form', onsubmit: submit, 'data-testid': 'signin-form' },
        h('label', { class: 'form-field' }, h('span', null, 'Your name'), h('input', { name: 'name', placeholder: 'Alice', autocomplete: 'off', 'aria-label': 'Your name', autofocus: true })),
        h('label', { class: 'form-field' }, h('span', null, 'This device'), h('input', { name: 'device', defaultValue: guessDevice(), 'aria-label': 'This device' })),
        h('button', { type: 'submit', class: 'btn primary wide', disabled: app.signingIn, 'data-testid': 'signin-submit' }, app.signingIn ? 'Signing in…' : 'Sign in'),
        h('p', { class: 'muted small' }, 'Dev sign-in: the relay issues a token for any name. The same name in another browser is the same account on another device.'),
      ),
      accounts.length > 0 &&
        h(
          'div',
          { class: 'signin-accounts' },
          h('div', { class: 'popover-title' }, 'Signed in on this device'),
          accounts.map((a) => {
            const raw = localStorage.getItem(`apisync-web:profile:${a.id}`)
            const person = raw ? (JSON.parse(raw) as { name: string; device: string }) : null
            return button(person ? `${person.name} (${person.device})` : (a.name ?? a.id), () => app.act(() => app.switchAccount(a.id)), { key: a.id, class: 'wide' })
          }),
        ),
      keptBackups(app, app.life.keptBackups, false),
      h('div', { class: 'or' }, h('span', null, 'or')),
      button('Try it first: open the scratch pad (no account)', () => app.act(() => app.openScratchPad()), { class: 'wide', 'data-testid': 'open-scratch' }),
    ),
  )
}
