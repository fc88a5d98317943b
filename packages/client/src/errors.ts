import type { SyncProblem } from './status.js'

/** Every error the client throws carries one of these codes. */
export type SyncClientErrorCode =
  | 'INSECURE_URL' // a plain ws:// or http:// relay that is not localhost, without allowInsecure
  | 'INVALID_URL' // a relay URL that is not http(s) or ws(s)
  | 'NO_WEBSOCKET' // no WebSocket implementation (in Node, pass `WebSocket` from 'ws')
  | 'NO_INDEXEDDB' // no IndexedDB implementation (in Node, pass one, e.g. fake-indexeddb)
  | 'INVALID_TOKEN' // getToken() returned something that is not a JWT with `sub`, or one for another account
  | 'NO_SUCH_ACCOUNT' // an account that is not signed in on this device
  | 'NO_SUCH_DOC' // a doc name or address outside the workspace
  | 'PENDING_CHANGES' // sign-out refused: local changes the relay has not acked (pass { force: true })
  | 'SIGN_OUT_INCOMPLETE' // a local database of the account could not be deleted
  | 'STORAGE' // IndexedDB refused a read or write
  | 'HTTP' // the relay's HTTP API answered with an error
  | 'SYNC' // a doc stopped syncing for good (revoked, device limit, no access…): see `reason`
  | 'BAD_BACKUP' // bytes that are not an apisync backup file
  | 'NOT_SEALED' // a copy into a workspace with encryption on of values that are not sealed
  | 'CLOSED' // the client, account or doc was closed

export class SyncClientError extends Error {
  override readonly name = 'SyncClientError'
  constructor(
    readonly code: SyncClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** Sign-out refused: `pending` local changes are not on the relay yet. */
export class PendingChangesError extends SyncClientError {
  constructor(readonly pending: number) {
    super(
      'PENDING_CHANGES',
      `${pending} local change${pending === 1 ? ' is' : 's are'} not on the relay yet: export a backup, or sign out with { force: true }`,
    )
  }
}

/** A doc or account stopped syncing for good while something waited for it; `problem` says why. */
export class SyncStoppedError extends SyncClientError {
  constructor(readonly problem: SyncProblem) {
    super('SYNC', `sync stopped (${problem.reason}): ${problem.message}`)
  }
}
