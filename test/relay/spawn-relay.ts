/**
 * Run the relay CLI (`apisync-relay`) as a child process: the built dist/cli.js when it is up to date with
 * src (as after `npm test`'s `tsc -b`), else the TypeScript source through tsx (slower to start).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const srcDir = fileURLToPath(new URL('../../packages/relay/src/', import.meta.url))
const distDir = fileURLToPath(new URL('../../packages/relay/dist/', import.meta.url))

function distIsFresh(): boolean {
  for (const file of readdirSync(srcDir)) {
    if (!file.endsWith('.ts')) continue
    const built = join(distDir, file.replace(/\.ts$/, '.js'))
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(srcDir, file)).mtimeMs) return false
  }
  return true
}

/** The command line that runs the CLI. */
export const cliCommand: string[] = distIsFresh() ? [join(distDir, 'cli.js')] : ['--import', 'tsx', join(srcDir, 'cli.ts')]

export interface RelayProcess {
  child: ChildProcess
  url: string
  wsUrl: string
  port: number
  /** JSON log lines (stdout) and stderr text so far. */
  stdout: string[]
  stderr: string[]
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Start the CLI with `args`; resolves once it logged `relay.listening`. */
export function spawnRelay(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RelayProcess> {
  const child = spawn(process.execPath, [...cliCommand, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stdout: string[] = []
  const stderr: string[] = []
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  return new Promise((resolve, reject) => {
    let buffered = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`relay did not start: ${stderr.join('')}`))
    }, 20_000)
    child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()))
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop()!
      for (const line of lines) {
        stdout.push(line)
        let entry: { msg?: string; url?: string; wsUrl?: string; port?: number }
        try {
          entry = JSON.parse(line)
        } catch {
          continue
        }
        if (entry.msg === 'relay.listening') {
          clearTimeout(timer)
          resolve({ child, url: entry.url!, wsUrl: entry.wsUrl!, port: entry.port!, stdout, stderr, exited })
        }
      }
    })
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`relay exited early (${code ?? signal}): ${stderr.join('')}`))
    })
  })
}
