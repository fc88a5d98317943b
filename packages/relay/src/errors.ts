import type { CloseCode } from './close-codes.js'

/**
 * A refusal the relay reports to a client: `code` is the WebSocket close code (and, on HTTP routes, maps to
 * a status); `reason` is short, safe to show, and never contains a token.
 */
export class RelayError extends Error {
  override readonly name: string = 'RelayError'
  constructor(
    readonly code: CloseCode,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options)
  }
}

/** A message that does not follow the protocol (close 4400). */
export class ProtocolError extends RelayError {
  override readonly name = 'ProtocolError'
  constructor(reason: string, options?: { cause?: unknown }) {
    super(4400, reason, options)
  }
}

/** A token that is missing, malformed, forged, expired or not yet valid (close 4401). */
export class TokenError extends RelayError {
  override readonly name = 'TokenError'
  constructor(reason: string, options?: { cause?: unknown }) {
    super(4401, reason, options)
  }
}

/** Relay options that cannot work (e.g. no way to verify tokens). Thrown at start, never to a client. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  readonly code = 'CONFIG'
}

/** A storage operation that failed (SQLite error, or the storage worker stopped). The relay closes with 1011. */
export class StorageError extends Error {
  override readonly name = 'StorageError'
  constructor(
    message: string,
    /** SQLite's code (e.g. `SQLITE_FULL`) when there is one, else `STORAGE`. */
    readonly code = 'STORAGE',
  ) {
    super(message)
  }
}
