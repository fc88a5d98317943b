/**
 * The server side of a benchmark child process: starts one server and answers the parent's
 * requests over the IPC channel, so that each server's memory and CPU are measured in a
 * process of its own, apart from the clients that load it.
 */

export interface StartedServer {
  readonly port: number
  close(): Promise<void>
}

export interface MemorySample {
  readonly rss: number
  readonly heapUsed: number
  readonly external: number
  readonly arrayBuffers: number
}

export interface CpuSample {
  /** user + system CPU time of the server process, in milliseconds */
  readonly ms: number
}

/** Parent → child requests. */
export type ChildRequest = { id: number; op: 'memory' } | { id: number; op: 'cpu' } | { id: number; op: 'close' }

/** Child → parent messages. */
export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'failed'; error: string }
  | { type: 'reply'; id: number; result: MemorySample | CpuSample | null }

const send = (message: ChildMessage): void => {
  process.send?.(message)
}

const collectGarbage = async (): Promise<void> => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('server child must run with --expose-gc')
  // Several passes with turns of the event loop between them, so that weak callbacks and
  // finalizers run and what remains is what the server really keeps.
  for (let i = 0; i < 4; i++) {
    gc()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const memory = async (): Promise<MemorySample> => {
  await collectGarbage()
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage()
  return { rss, heapUsed, external, arrayBuffers }
}

const cpu = (): CpuSample => {
  const { user, system } = process.cpuUsage()
  return { ms: (user + system) / 1000 }
}

export const serveInChild = (start: () => Promise<StartedServer>): void => {
  if (process.send === undefined) throw new Error('a bench server runs as a child process with an IPC channel')
  start().then(
    (server) => {
      process.on('message', (request: ChildRequest) => {
        switch (request.op) {
          case 'memory':
            void memory().then((result) => send({ type: 'reply', id: request.id, result }))
            break
          case 'cpu':
            send({ type: 'reply', id: request.id, result: cpu() })
            break
          case 'close':
            void server.close().finally(() => {
              send({ type: 'reply', id: request.id, result: null })
              process.disconnect()
              // Servers may keep timers (pings, compaction); the parent is done with us.
              setTimeout(() => process.exit(0), 50).unref()
            })
            break
        }
      })
      send({ type: 'ready', port: server.port })
    },
    (error: unknown) => {
      send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) })
      process.exit(1)
    },
  )
}
