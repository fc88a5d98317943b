/**
 * Members & keys: who can read the workspace's encrypted values, with the safety code of each member's keys
 * (compare it with them), a loud warning when someone's keys changed since this device saw them, and what the
 * keyring ignored (records that do not verify) and why. Admins add, remove and change members here.
 */
import type { KeyringMember } from '@apisync/crypto'
import type { App } from '../app.js'
import { h } from '../dom.js'
import { badge, button, empty } from './ui.js'

export function membersPage(app: App): HTMLElement {
  const view = app.view
  if (!view || view.local) return h('div', { class: 'placeholder' }, 'The scratch pad has no members: its values stay in this browser.')
  const ring = view.ring
  const admin = ring.role === 'owner' || ring.role === 'admin'
  const writable = !view.readOnly
  const loud = ring.notices.filter((n) => n.code !== 'KEY_CHANGED')
  return h(
    'div',
    { class: 'editor', key: 'members', 'data-testid': 'members-page', 'data-status': ring.status },
    h('div', { class: 'breadcrumb' }, view.manifest.snapshot().name || 'Workspace'),
    h('div', { class: 'title-row' }, h('h1', { class: 'title' }, 'Members & keys')),
    h(
      'p',
      { class: 'muted' },
      'Variable values are encrypted for the members below. Each member has a safety code: read it out to each other (in person, or on a call) — if the codes match, nobody in between (not even the relay) swapped their keys.',
    ),
    app.mySafetyCode && h('p', null, 'Your safety code: ', h('code', { class: 'safety-code', 'data-testid': 'my-safety-code' }, app.mySafetyCode)),
    ring.members
      .filter((m) => m.keyChange)
      .map((m) =>
        h(
          'div',
          { key: `kc-${m.accountId}`, class: 'banner banner-error', 'data-testid': 'key-change-warning', 'data-account': m.accountId },
          h('strong', null, `${m.name || m.accountId}'s keys changed. `),
          `This device knew them with safety code ${m.keyChange!.pinned}; they now read ${m.keyChange!.now}. Until you have compared the new code with ${m.name || 'them'}, someone may be reading as them. `,
          button('I compared it: trust the new keys', () => app.act(() => app.acceptKeyChange(m.accountId)), { class: 'small', 'data-testid': 'accept-key-change' }),
        ),
      ),
    loud.map((n, i) => h('div', { key: `n-${i}`, class: ['banner', n.code === 'NEEDS_ROTATION' || n.code === 'KEYS_ANNOUNCED' ? 'banner-info' : 'banner-warn'], 'data-testid': 'keyring-notice', 'data-code': n.code }, n.message)),
    ring.status === 'ambiguous' &&
      h(
        'div',
        { class: 'card' },
        h('h3', null, 'Which genesis is real?'),
        h('p', { class: 'muted' }, 'Ask the owner for their safety code and choose the record with the same code.'),
        ring.geneses.map((g) =>
          h('p', { key: g.safetyCode }, `${g.accountId}: `, h('code', { class: 'safety-code' }, g.safetyCode), ' ', button('This one', () => app.act(() => app.trustGenesis(g.safetyCode)), { class: 'small' })),
        ),
      ),
    ring.status === 'unsigned' &&
      writable &&
      view.workspace.role === 'owner' &&
      h(
        'div',
        { class: 'card' },
        h('h3', null, 'Unsigned members'),
        h('p', { class: 'muted' }, "This workspace's members were added before records were signed, so nobody can tell who added them. Check the list, then re-sign it: new values are sealed again from then on."),
        h('ul', null, view.manifest.snapshot().members.map((m) => h('li', { key: m.id }, `${m.name || m.accountId} (${m.accountId.slice(0, 8)})`))),
        button('Re-sign these members', () => app.act(() => app.resignMembers(view.manifest.snapshot().members.map((m) => m.accountId))), { class: 'primary', 'data-testid': 'resign' }),
      ),
    ring.members.length === 0
      ? empty(ring.status === 'verified' ? 'No members.' : 'No verified members yet.')
      : h(
          'table',
          { class: 'rows members', 'data-testid': 'members' },
          h('thead', null, h('tr', null, h('th', null, 'Member'), h('th', null, 'Role'), h('th', null, 'Safety code'), h('th', null, 'Current key'), h('th', { class: 'col-act' }))),
          h(
            'tbody',
            null,
            ring.members.map((m) => memberRow(app, m, admin && writable)),
          ),
        ),
    ring.announcements.length > 0 &&
      h(
        'div',
        { class: 'card' },
        h('h3', null, 'New keys to endorse'),
        ring.announcements.map((a) =>
          h(
            'p',
            { key: a.accountId, 'data-testid': 'announcement', 'data-account': a.accountId },
            `${a.accountId} published new keys, safety code `,
            h('code', { class: 'safety-code' }, a.safetyCode),
            '. Compare it with them first. ',
            admin && writable && button('Endorse', () => app.act(() => app.endorseKeys(a.accountId)), { class: 'small', 'data-testid': 'endorse-keys' }),
          ),
        ),
      ),
    ring.removed.length > 0 && h('p', { class: 'muted small', 'data-testid': 'removed' }, `Removed: ${ring.removed.join(', ')}. They cannot read values written after their removal.`),
    admin &&
      writable &&
      h(
        'div',
        { class: 'inline-actions' },
        button(
          'Add a member',
          () =>
            app.openDialog({
              title: 'Add a member',
              body: 'Paste their member code (from their Keys & recovery page). Compare its safety code with them afterwards.',
              fields: [
                { name: 'code', label: 'Member code', type: 'textarea' },
                { name: 'role', label: 'Role', type: 'select', value: 'member', options: [{ value: 'member', label: 'Member (reads and writes values)' }, { value: 'admin', label: 'Admin (also manages members)' }] },
              ],
              submit: 'Add',
              onSubmit: (v) => app.addMember(v.code ?? '', v.role === 'admin' ? 'admin' : 'member'),
            }),
          { class: 'primary', 'data-testid': 'add-member' },
        ),
      ),
    ring.problems.length > 0 &&
      h(
        'details',
        { class: 'problems', 'data-testid': 'keyring-problems' },
        h('summary', null, `${ring.problems.length} record(s) ignored: they do not verify`),
        h('ul', null, ring.problems.map((p, i) => h('li', { key: String(i), 'data-code': p.code }, `${p.code}: ${p.reason} (${p.list} ${p.rowId.slice(0, 12)})`))),
      ),
  )
}

function memberRow(app: App, m: KeyringMember, manage: boolean): HTMLElement {
  const me = m.accountId === app.account?.id
  const ring = app.view!.ring
  const above = ring.role === 'owner' ? m.role !== 'owner' : m.role === 'member'
  return h(
    'tr',
    { key: m.accountId, class: [m.keyChange && 'key-changed'], 'data-testid': 'member', 'data-account': m.accountId, 'data-role': m.role, 'data-name': m.name },
    h('td', null, h('strong', null, m.name || m.accountId.slice(0, 8)), me ? badge('you', 'current') : null, m.keyChange ? badge('keys changed', 'fail') : null),
    h('td', null, m.role),
    h('td', null, h('code', { class: 'safety-code', 'data-testid': 'safety-code' }, m.safetyCode)),
    h('td', null, m.holdsCurrent ? badge('yes', 'pass') : h('span', { class: 'muted' }, 'waiting for an admin')),
    h(
      'td',
      { class: 'col-act' },
      manage &&
        !me &&
        above && [
          ring.role === 'owner' &&
            button(m.role === 'admin' ? 'Make member' : 'Make admin', () => app.act(() => app.setMemberRole(m.accountId, m.role === 'admin' ? 'member' : 'admin')), { class: 'small' }),
          button(
            'Remove',
            () =>
              app.openDialog({
                title: `Remove ${m.name || m.accountId}?`,
                body: 'They stop receiving new keys: values written from now on are unreadable to them. Values they could read before stay readable to them until re-sealed.',
                fields: [],
                submit: 'Remove',
                danger: true,
                onSubmit: () => app.removeMember(m.accountId),
              }),
            { class: 'small danger', 'data-testid': 'remove-member' },
          ),
        ],
    ),
  )
}
