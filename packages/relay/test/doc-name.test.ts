import { describe, expect, it } from 'vitest'
import { ProtocolError, parseDocName } from '@apisync/relay'
import { docNameFromPath } from '../src/doc-name.js'

describe('doc names', () => {
  it('takes the workspace id from the first segment', () => {
    expect(parseDocName('ws-1/collection/c-9')).toEqual({ name: 'ws-1/collection/c-9', workspaceId: 'ws-1' })
    expect(docNameFromPath('/sync/ws%201/runs/c%2Fx')).toEqual({ name: 'ws 1/runs/c/x', workspaceId: 'ws 1' })
  })

  it.each(['', 'ws', 'ws/', '/ws/a', 'ws//a', 'ws/../other', 'ws/./a', 'ws/a\u0000', 'ws\\a/b', `ws/${'x'.repeat(600)}`])(
    'refuses %j',
    (name) => {
      expect(() => parseDocName(name)).toThrow(ProtocolError)
    },
  )

  it('refuses bad percent-encoding', () => {
    expect(() => docNameFromPath('/sync/ws/%E0%A4%A')).toThrow(ProtocolError)
  })
})
