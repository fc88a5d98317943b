/** Reconnect delays: exponential, capped, with jitter so that a relay restart is not met by a stampede. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. Default 250 ms. */
  readonly initialMs?: number
  /** Cap of the delay. Default 15 s. */
  readonly maxMs?: number
}

export const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 15_000 } as const

/**
 * The delay before retry number `attempt` (1, 2, …): `initialMs · 2^(attempt-1)` capped at `maxMs`, then a
 * uniformly random point in its upper half ("equal jitter": never much shorter than planned, never in step).
 */
export const backoffDelay = (attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number => {
  const initial = options.initialMs ?? DEFAULT_BACKOFF.initialMs
  const max = options.maxMs ?? DEFAULT_BACKOFF.maxMs
  const planned = Math.min(max, initial * 2 ** Math.max(0, attempt - 1))
  return Math.round(planned / 2 + random() * (planned / 2))
}
