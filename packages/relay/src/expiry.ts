/**
 * Token expiry: calls back for each item when its `exp` (epoch seconds) is reached. One timer per distinct
 * `exp`, not per item: tokens carry whole seconds and an app's connections (one per doc) share a token, so
 * an idle connection costs a set entry rather than a timer of its own.
 */

/** setTimeout's limit; later deadlines are re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1

export class ExpiryTimers<T> {
  private readonly due = new Map<number, { items: Set<T>; timer: NodeJS.Timeout }>()

  constructor(private readonly expired: (item: T) => void) {}

  add(item: T, exp: number): void {
    let slot = this.due.get(exp)
    if (!slot) this.due.set(exp, (slot = { items: new Set(), timer: this.arm(exp) }))
    slot.items.add(item)
  }

  delete(item: T, exp: number): void {
    const slot = this.due.get(exp)
    if (!slot || !slot.items.delete(item) || slot.items.size > 0) return
    clearTimeout(slot.timer)
    this.due.delete(exp)
  }

  clear(): void {
    for (const { timer } of this.due.values()) clearTimeout(timer)
    this.due.clear()
  }

  private arm(exp: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.fire(exp), Math.min(Math.max(exp * 1000 - Date.now(), 0), MAX_TIMER_MS))
    timer.unref()
    return timer
  }

  private fire(exp: number): void {
    const slot = this.due.get(exp)
    if (!slot) return
    if (exp * 1000 > Date.now()) {
      slot.timer = this.arm(exp)
      return
    }
    this.due.delete(exp)
    for (const item of slot.items) this.expired(item)
  }
}
