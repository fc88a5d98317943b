import type { Variable } from '@apisync/model'
import { expect, test } from 'vitest'
import { resolveVariables, substituteVariables } from '../src/variables.js'

const v = (id: string, key: string, value: string, enabled = true): Variable => ({
  id,
  key,
  value,
  enabled,
  type: 'default',
  description: '',
  extra: {},
})

test('precedence: overrides > environment > collection > globals; per scope, local value over shared', () => {
  const resolved = resolveVariables({
    globals: { variables: [v('g1', 'host', 'global-host'), v('g2', 'token', 'g-token'), v('g3', 'only', 'g')] },
    collection: { variables: [v('c1', 'host', 'collection-host'), v('c2', 'token', 'c-token')], localValues: new Map([['c2', 'c-local']]) },
    environment: { variables: [v('e1', 'host', 'env-host'), v('e2', 'off', 'x', false)], localValues: new Map([['e1', 'env-local-host']]) },
    overrides: { iteration: 3 },
  })
  expect(Object.fromEntries([...resolved].map(([k, r]) => [k, [r.value, r.scope, r.local]]))).toEqual({
    host: ['env-local-host', 'environment', true],
    token: ['c-local', 'collection', true],
    only: ['g', 'globals', false],
    iteration: [3, 'overrides', true],
  })
})

test('a disabled variable does not shadow a broader one', () => {
  const resolved = resolveVariables({
    globals: { variables: [v('g', 'host', 'global')] },
    environment: { variables: [v('e', 'host', 'env', false)] },
  })
  expect(resolved.get('host')?.value).toBe('global')
})

test('substitution: nested references resolve, unknown names stay, cycles stop', () => {
  const vars = resolveVariables({
    environment: { variables: [v('1', 'base', 'https://{{host}}'), v('2', 'host', 'api.example.com'), v('3', 'a', '{{b}}'), v('4', 'b', '{{a}}')] },
    overrides: { n: 5 },
  })
  expect(substituteVariables('{{base}}/users?limit={{n}}&x={{missing}}', vars)).toBe('https://api.example.com/users?limit=5&x={{missing}}')
  expect(substituteVariables('{{a}}', vars)).toMatch(/^\{\{[ab]\}\}$/)
})
