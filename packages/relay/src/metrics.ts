/**
 * A tiny Prometheus text-format registry: counters, gauges and histograms with fixed buckets. The relay has a
 * handful of series, so a dependency would weigh more than this file.
 */

type Labels = Record<string, string>

const labelKey = (labels: Labels | undefined): string =>
  labels === undefined
    ? ''
    : Object.entries(labels)
        .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
        .join(',')

interface Series {
  name: string
  help: string
  render(): string
}

export class Counter implements Series {
  private readonly values = new Map<string, number>()
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(by = 1, labels?: Labels): void {
    const key = labelKey(labels)
    this.values.set(key, (this.values.get(key) ?? 0) + by)
  }
  get(labels?: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`]
    if (this.values.size === 0) lines.push(`${this.name} 0`)
    for (const [key, value] of this.values) lines.push(`${this.name}${key ? `{${key}}` : ''} ${value}`)
    return lines.join('\n')
  }
}

export class Gauge implements Series {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
  ) {}
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, `${this.name} ${this.read()}`].join('\n')
  }
}

export class Histogram implements Series {
  private readonly counts: number[]
  private sum = 0
  private count = 0
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0)
  }
  observe(value: number): void {
    this.sum += value
    this.count++
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) this.counts[i]++
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    this.buckets.forEach((le, i) => lines.push(`${this.name}_bucket{le="${le}"} ${this.counts[i]}`))
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`)
    return lines.join('\n')
  }
}

const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

/** Every series the relay exports on GET /metrics. */
export class RelayMetrics {
  readonly messagesIn = new Counter('apisync_messages_in_total', 'WebSocket messages received')
  readonly bytesIn = new Counter('apisync_bytes_in_total', 'WebSocket bytes received')
  readonly messagesOut = new Counter('apisync_messages_out_total', 'WebSocket messages sent')
  readonly bytesOut = new Counter('apisync_bytes_out_total', 'WebSocket bytes sent')
  readonly updatesIn = new Counter('apisync_updates_in_total', 'Yjs updates accepted from clients (sync step 2 and update)')
  readonly updatesRefused = new Counter('apisync_updates_refused_total', 'Non-empty updates refused from viewers')
  readonly updatesCommitted = new Counter('apisync_updates_committed_total', 'Doc updates committed to storage')
  readonly commits = new Counter('apisync_commits_total', 'Storage transactions (group commits)')
  readonly commitFailures = new Counter('apisync_commit_failures_total', 'Storage transactions that failed')
  readonly acks = new Counter('apisync_acks_total', 'Ack messages sent')
  readonly compactions = new Counter('apisync_compactions_total', 'Update logs compacted into a snapshot')
  readonly docLoads = new Counter('apisync_doc_loads_total', 'Docs loaded from storage')
  readonly docUnloads = new Counter('apisync_doc_unloads_total', 'Idle docs unloaded from memory')
  readonly closes = new Counter('apisync_connections_closed_total', 'Connections closed by the relay, by close code')
  readonly commitSeconds = new Histogram('apisync_commit_seconds', 'Duration of one storage commit', latencyBuckets)
  readonly ackSeconds = new Histogram(
    'apisync_ack_latency_seconds',
    'From receiving an update to sending its ack (includes batching and commit)',
    latencyBuckets,
  )
  readonly busPublished = new Counter('apisync_bus_published_total', 'Doc messages published to the other relays (one per doc per commit)')
  readonly busPublishFailures = new Counter('apisync_bus_publish_failures_total', 'Doc messages that could not be published (repaired from the store)')
  readonly busReceived = new Counter('apisync_bus_received_total', 'Doc messages received from other relays')
  readonly busPreviewsPublished = new Counter('apisync_bus_previews_published_total', 'Previews published: changes relayed to other relays before their commit')
  readonly busPreviewsReceived = new Counter('apisync_bus_previews_received_total', 'Previews received from other relays (forwarded to peers, not applied)')
  readonly busLagSeconds = new Histogram(
    'apisync_bus_lag_seconds',
    'Pub/sub lag: from another relay publishing a commit to this relay receiving it (wall clocks)',
    latencyBuckets,
  )
  readonly gapRepairs = new Counter('apisync_gap_repairs_total', 'Reads from the store of updates this relay missed (a gap in a doc sequence)')
  private readonly series: Series[]

  constructor(gauges: {
    connections: () => number
    docs: () => number
    sessions: () => number
    /** 1 if the store answered the last check, else 0. */
    storeUp: () => number
    /** 1 if the bus is connected (or there is none), else 0. */
    busUp: () => number
  }) {
    this.series = [
      new Gauge('apisync_connections', 'Open sync connections', gauges.connections),
      new Gauge('apisync_docs_loaded', 'Docs loaded in memory', gauges.docs),
      new Gauge('apisync_sessions_live', 'Sessions with at least one open connection', gauges.sessions),
      new Gauge('apisync_store_up', 'Whether the store answered its last check (1) or not (0)', gauges.storeUp),
      new Gauge('apisync_bus_up', 'Whether the bus between relays is connected (1; also with no bus) or not (0)', gauges.busUp),
      new Gauge('process_resident_memory_bytes', 'Resident memory of the relay process', () => process.memoryUsage.rss()),
      new Gauge('nodejs_heap_used_bytes', 'V8 heap in use', () => process.memoryUsage().heapUsed),
      this.messagesIn,
      this.bytesIn,
      this.messagesOut,
      this.bytesOut,
      this.updatesIn,
      this.updatesRefused,
      this.updatesCommitted,
      this.commits,
      this.commitFailures,
      this.acks,
      this.compactions,
      this.docLoads,
      this.docUnloads,
      this.closes,
      this.commitSeconds,
      this.ackSeconds,
      this.busPublished,
      this.busPublishFailures,
      this.busReceived,
      this.busPreviewsPublished,
      this.busPreviewsReceived,
      this.busLagSeconds,
      this.gapRepairs,
    ]
  }

  render(): string {
    return this.series.map((s) => s.render()).join('\n') + '\n'
  }
}
