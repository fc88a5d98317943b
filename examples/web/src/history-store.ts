/**
 * What the History panel and the Activity feed have fetched from the relay, per workspace: pages of versions,
 * versions opened (read-only models), diffs, and activity pages. Everything is fetched on demand, once, and
 * re-rendered when it arrives (`changed`); a failure is kept as its message (shown where the data would be).
 * Diffs against the live doc are keyed by its snapshot (a new edit makes a new one).
 */
import type { SyncedDoc } from '@apisync/client'
import type { CollectionModel, DocModel } from '@apisync/model'
import { type ActivityEntry, type DocDiff, type HistoryApi, type Version, historyErrorText } from './history-api.js'
import type { WorkspaceView } from './workspace-view.js'

export type Loaded<T> = { readonly state: 'loading' } | { readonly state: 'ready'; readonly value: T } | { readonly state: 'error'; readonly message: string }

export interface VersionList {
  versions: Version[]
  /** The live doc's snapshot when the list was last fetched (a newer one: look for new versions). */
  seenSnapshot: object | null
  lastFetch: number
  next: number | null
  oldest: number
  loading: boolean
  error: string | null
}

export interface ActivityFilter {
  readonly account?: string
  readonly collection?: string
}

export interface ActivityList {
  readonly filter: ActivityFilter
  entries: ActivityEntry[]
  next: string | null
  loading: boolean
  error: string | null
}

/** The comparison a History panel shows: two versions (`live` = now), and the version opened. */
export interface PanelState {
  from: number | null
  to: number | 'live'
  opened: number | null
}

const PAGE = 20
/** Activity entries a page: a screenful and a half. */
const ACTIVITY_PAGE = 15
/** Diffs computed at once at most (each may open a version: a cold open is the costly part). */
const PARALLEL = 2

export class HistoryStore {
  private readonly lists = new Map<string, VersionList>()
  private readonly versions = new Map<string, Loaded<DocModel<unknown>>>()
  private readonly diffs = new Map<string, Loaded<DocDiff>>()
  private readonly liveDiffs = new WeakMap<object, Map<number, Loaded<DocDiff>>>()
  private readonly panels = new Map<string, PanelState>()
  private readonly queue: (() => Promise<void>)[] = []
  private running = 0
  activity: ActivityList | null = null

  constructor(
    readonly api: HistoryApi,
    private readonly changed: () => void,
  ) {}

  panel(key: string): PanelState {
    let p = this.panels.get(key)
    if (!p) this.panels.set(key, (p = { from: null, to: 'live', opened: null }))
    return p
  }

  /** The versions of a doc fetched so far (the first page is fetched on first ask). */
  versionList(doc: SyncedDoc<CollectionModel>): VersionList {
    let list = this.lists.get(doc.name)
    if (!list) {
      list = { versions: [], seenSnapshot: doc.model.snapshot() as object, lastFetch: 0, next: null, oldest: 0, loading: false, error: null }
      this.lists.set(doc.name, list)
      void this.more(doc)
    }
    return list
  }

  /** The next page of versions (or the first again, for `refresh`: new versions since). */
  async more(doc: SyncedDoc<CollectionModel>, refresh = false): Promise<void> {
    const list = this.lists.get(doc.name) ?? this.versionList(doc)
    if (list.loading) return
    list.loading = true
    list.error = null
    list.lastFetch = Date.now()
    this.changed()
    try {
      const page = await this.api.history(doc, { limit: PAGE, ...(!refresh && list.next !== null ? { before: list.next } : {}) })
      const cut = page.versions.at(-1)?.firstSeq
      if (!refresh) {
        list.versions.push(...page.versions)
        list.next = page.next
      } else if (cut !== undefined && list.versions.some((v) => v.firstSeq <= cut)) {
        // The new first page overlaps what is listed: it replaces the top (the newest version may have grown).
        list.versions = [...page.versions, ...list.versions.filter((v) => v.firstSeq < cut)]
      } else {
        list.versions = page.versions.slice()
        list.next = page.next
      }
      list.oldest = page.oldest
    } catch (e) {
      list.error = historyErrorText(e)
    } finally {
      list.loading = false
      this.changed()
    }
  }

  /**
   * Keeps the first page current while the panel is shown: once the doc changed (here or elsewhere) and this
   * device is in sync with the relay, the new versions are fetched (at most every 2 s).
   */
  follow(doc: SyncedDoc<CollectionModel>): void {
    const list = this.lists.get(doc.name)
    const snap = doc.model.snapshot() as object
    if (!list || list.loading || list.seenSnapshot === snap || doc.status.getSnapshot().state !== 'in-sync') return
    const wait = list.lastFetch + 2_000 - Date.now()
    if (wait > 0) {
      setTimeout(this.changed, wait)
      return
    }
    list.seenSnapshot = snap
    void this.more(doc, true)
  }

  /** A version opened read-only (fetched once). */
  version(doc: SyncedDoc | string, seq: number): Loaded<DocModel<unknown>> {
    const key = `${typeof doc === 'string' ? doc : doc.name}@${seq}`
    const hit = this.versions.get(key)
    if (hit) return hit
    this.versions.set(key, { state: 'loading' })
    this.schedule(async () => {
      try {
        this.versions.set(key, { state: 'ready', value: await this.api.openVersion(doc, seq) })
      } catch (e) {
        this.versions.set(key, { state: 'error', message: historyErrorText(e) })
      }
    })
    return { state: 'loading' }
  }

  /** What changed from version `from` to `to` (two versions kept: fetched once). */
  diff(doc: SyncedDoc | string, from: number, to: number): Loaded<DocDiff> {
    const key = `${typeof doc === 'string' ? doc : doc.name}:${from}:${to}`
    const hit = this.diffs.get(key)
    if (hit) return hit
    this.diffs.set(key, { state: 'loading' })
    this.schedule(async () => {
      try {
        this.diffs.set(key, { state: 'ready', value: await this.api.diffVersions(doc, from, to) })
      } catch (e) {
        this.diffs.set(key, { state: 'error', message: historyErrorText(e) })
      }
    })
    return { state: 'loading' }
  }

  /** What changed from version `from` to the doc as it is now (again after each edit). */
  diffToLive(doc: SyncedDoc<CollectionModel>, from: number): Loaded<DocDiff> {
    const snap = doc.model.snapshot() as object
    let byFrom = this.liveDiffs.get(snap)
    if (!byFrom) this.liveDiffs.set(snap, (byFrom = new Map()))
    const hit = byFrom.get(from)
    if (hit) return hit
    const slot = byFrom
    slot.set(from, { state: 'loading' })
    this.schedule(async () => {
      try {
        slot.set(from, { state: 'ready', value: await this.api.diffVersions(doc, from, 'live') })
      } catch (e) {
        slot.set(from, { state: 'error', message: historyErrorText(e) })
      }
    })
    return { state: 'loading' }
  }

  /** The Activity feed with this filter (a new filter starts over). */
  activityList(filter: ActivityFilter): ActivityList {
    if (!this.activity || JSON.stringify(this.activity.filter) !== JSON.stringify(filter)) {
      this.activity = { filter, entries: [], next: null, loading: false, error: null }
      void this.moreActivity()
    }
    return this.activity
  }

  async moreActivity(refresh = false): Promise<void> {
    const list = this.activity
    if (!list || list.loading) return
    list.loading = true
    list.error = null
    this.changed()
    try {
      const { account, collection } = list.filter
      const page = await this.api.activity({
        limit: ACTIVITY_PAGE,
        ...(account ? { account } : {}),
        ...(collection ? { collection } : {}),
        ...(!refresh && list.next !== null ? { before: list.next } : {}),
      })
      if (refresh) list.entries = page.entries.slice()
      else list.entries.push(...page.entries)
      list.next = page.next
    } catch (e) {
      list.error = historyErrorText(e)
    } finally {
      list.loading = false
      this.changed()
    }
  }

  /** Runs fetches a few at a time (a page of rows asks for many diffs at once). */
  private schedule(task: () => Promise<void>): void {
    this.queue.push(task)
    this.pump()
  }

  private pump(): void {
    while (this.running < PARALLEL && this.queue.length > 0) {
      const task = this.queue.shift()!
      this.running++
      void task().finally(() => {
        this.running--
        this.changed()
        this.pump()
      })
    }
  }
}

const stores = new WeakMap<WorkspaceView, HistoryStore>()

/** The store of a workspace as shown (a new WorkspaceView, a new store). */
export function historyStore(view: WorkspaceView, api: HistoryApi, changed: () => void): HistoryStore {
  let s = stores.get(view)
  if (!s) stores.set(view, (s = new HistoryStore(api, changed)))
  return s
}
