/** Whether the device is online: browsers' online/offline events, or a switch the host flips. */
export interface NetworkMonitor {
  readonly online: boolean
  /** Returns the unsubscribe function. */
  subscribe(listener: (online: boolean) => void): () => void
}

/**
 * The browser's view (navigator.onLine, window online/offline events). Where there is no such thing (Node),
 * always online: connection failures are then handled by reconnecting with backoff.
 */
export const browserNetwork = (): NetworkMonitor => {
  const target = globalThis as { addEventListener?: EventTarget['addEventListener']; removeEventListener?: EventTarget['removeEventListener'] }
  const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator
  const hasEvents = typeof target.addEventListener === 'function' && typeof nav?.onLine === 'boolean'
  return {
    get online() {
      return hasEvents ? nav!.onLine !== false : true
    },
    subscribe(listener) {
      if (!hasEvents) return () => {}
      const on = () => listener(true)
      const off = () => listener(false)
      target.addEventListener!('online', on)
      target.addEventListener!('offline', off)
      return () => {
        target.removeEventListener!('online', on)
        target.removeEventListener!('offline', off)
      }
    },
  }
}

/** A monitor the host sets itself (Electron main, a CLI, tests). */
export const networkSwitch = (initial = true): NetworkMonitor & { set(online: boolean): void } => {
  let online = initial
  const listeners = new Set<(online: boolean) => void>()
  return {
    get online() {
      return online
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    set(next) {
      if (next === online) return
      online = next
      for (const l of [...listeners]) l(next)
    },
  }
}
