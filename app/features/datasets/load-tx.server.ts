import type { PGlite, Transaction } from '@electric-sql/pglite'
import type postgres from 'postgres'
import { setCaller, type Claims, type Db, type Sql } from '#app/db/db.server.ts'

/**
 * One transaction that switches between the caller (RLS applies: metadata rows, permission checks) and the
 * server's own role (creating and bulk-loading the datalake tables, which no API role may touch). Everything
 * commits together or not at all: a failed upload leaves no dataset row and no table.
 */
export interface LoadTx extends Sql {
  asCaller(): Promise<void>
  asServer(): Promise<void>
  /** Bulk-loads COPY text (tab-separated, \N for NULL) into `table (columns)`; both already quoted. */
  copy(table: string, columns: string[], text: string | Buffer[]): Promise<void>
  /**
   * One COPY left open while the caller writes to it (Postgres only; PGlite takes whole blobs). Nothing else
   * can run on the transaction until end() returns.
   */
  copyStream?(table: string, columns: string[]): Promise<CopyStream>
}

export interface CopyStream {
  /** Resolves once the connection takes more (backpressure); throws when the COPY failed. */
  write(chunk: Buffer): Promise<void>
  end(): Promise<void>
  /** Fails the COPY (CopyFail), so the transaction can roll back. */
  abort(): void
}

/** A CopyStream over postgres.js's COPY writable. */
function copyWriter(
  w: NodeJS.WritableStream & { on(e: string, f: (...a: any[]) => void): unknown; off(e: string, f: (...a: any[]) => void): unknown },
  probe: () => Promise<unknown>,
): CopyStream {
  let failure: unknown = null
  let settle: (() => void) | null = null
  const finished = new Promise<void>((resolve, reject) => {
    w.on('finish', resolve)
    w.on('error', (e: unknown) => {
      failure ??= e
      reject(e)
      settle?.()
    })
  })
  finished.catch(() => {})
  return {
    async write(chunk) {
      if (failure) throw failure
      if (!w.write(chunk)) {
        await new Promise<void>((resolve) => {
          const s = () => {
            settle = null
            w.off('drain', s)
            resolve()
          }
          settle = s
          w.on('drain', s)
        })
      }
      if (failure) throw failure
    },
    async end() {
      if (failure) throw failure
      w.end()
      // postgres.js never settles the stream when Postgres rejects the data after CopyDone was sent: a query
      // queued behind the COPY tells (it fails once the transaction is aborted).
      await probe().catch((e) => {
        // postgres.js drops the COPY's own error; mark this one so the upload can report it as the file's problem.
        failure ??= Object.assign(new Error(`Postgres rejected the COPY data (${(e as Error).message})`), { copyRejected: true })
      })
      if (failure) throw failure
      await finished
    },
    abort() {
      failure ??= new Error('COPY aborted')
      ;(w as unknown as { destroy(e: Error): void }).destroy(new Error('upload aborted'))
    },
  }
}

export async function withLoadTx<T>(db: Db, claims: Claims, fn: (tx: LoadTx) => Promise<T>): Promise<T> {
  if (db.engine === 'postgres') {
    const sql = db.raw as postgres.Sql
    return (await sql.begin(async (t) => {
      const query: Sql['query'] = async (text, params) => {
        const r = await t.unsafe(text, (params ?? []) as any[])
        return { rows: r as any, rowCount: r.count ?? r.length }
      }
      const copyStream = async (table: string, columns: string[]) =>
        copyWriter((await t.unsafe(`copy ${table} (${columns.join(', ')}) from stdin`).writable()) as any, () => t.unsafe('select 1'))
      const tx = makeTx(query, (s) => t.unsafe(s).simple().then(() => {}), claims, copyStream, async (table, columns, text) => {
        if (!text.length) return
        const stream = await copyStream(table, columns)
        for (const b of typeof text === 'string' ? [Buffer.from(text)] : text) await stream.write(b)
        await stream.end()
      })
      await tx.asCaller()
      return fn(tx)
    })) as T
  }
  const pg = db.raw as PGlite
  return pg.transaction(async (t: Transaction) => {
    const query: Sql['query'] = async (text, params) => {
      const r = await t.query<any>(text, params as any[])
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length }
    }
    const tx = makeTx(query, (s) => t.exec(s).then(() => {}), claims, undefined, async (table, columns, text) => {
      if (!text.length) return
      await t.query(`copy ${table} (${columns.join(', ')}) from '/dev/blob'`, [], { blob: new Blob(typeof text === 'string' ? [text] : (text as BlobPart[])) })
    })
    await tx.asCaller()
    return fn(tx)
  })
}

function makeTx(query: Sql['query'], exec: (s: string) => Promise<void>, claims: Claims, copyStream: LoadTx['copyStream'], copy: LoadTx['copy']): LoadTx {
  const sql: Sql = { query, exec }
  return {
    query,
    exec,
    copy,
    copyStream,
    asCaller: () => setCaller(sql, claims),
    // Back to the connection's own role for this transaction only; the caller's claims stay set.
    asServer: async () => {
      await query(`select set_config('role', 'none', true)`)
    },
  }
}

/** A Postgres identifier, double-quoted. Names reaching here are validated, this only quotes. */
export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`

/**
 * Runs COPYs one after another on the transaction's connection while the caller keeps parsing: Postgres
 * loads batch k while JavaScript validates batch k+1 (two cores busy instead of one). The caller waits only
 * when more than `maxPendingBytes` are queued, so memory stays bounded.
 */
export class CopyQueue {
  private tail: Promise<void> = Promise.resolve()
  private pendingBytes = 0
  private firstFailure: unknown = null
  constructor(
    private readonly tx: LoadTx,
    private readonly maxPendingBytes = 16 * 1024 * 1024,
  ) {}
  async push(table: string, columns: string[], chunks: Buffer[], bytes: number) {
    if (this.firstFailure) throw this.firstFailure
    this.enqueue(table, columns, chunks, bytes)
    if (this.pendingBytes > this.maxPendingBytes) await this.tail
    if (this.firstFailure) throw this.firstFailure
  }
  /** Queues a COPY without waiting (the caller bounds memory itself). */
  enqueue(table: string, columns: string[], chunks: Buffer[], bytes: number) {
    this.pendingBytes += bytes
    this.tail = this.tail.then(async () => {
      try {
        if (!this.firstFailure) await this.tx.copy(table, columns, chunks)
      } catch (e) {
        this.firstFailure ??= e
      } finally {
        this.pendingBytes -= bytes
      }
    })
  }
  /** Waits while more than maxPendingBytes are queued; throws the first failure. */
  async wait() {
    if (this.pendingBytes > this.maxPendingBytes) await this.tail
    if (this.firstFailure) throw this.firstFailure
  }
  /** Runs `fn` once every COPY queued so far has finished (or failed). */
  after(fn: () => void) {
    this.tail = this.tail.then(fn)
  }
  get failed(): boolean {
    return this.firstFailure !== null
  }
  get failure(): unknown {
    return this.firstFailure
  }
  /** Waits for every queued COPY; throws the first failure. */
  async drain() {
    await this.tail
    if (this.firstFailure) throw this.firstFailure
  }
}

/**
 * COPY text gathered as Buffers (off the JS heap, so the garbage collector does not scan megabytes of
 * strings) and queued as one COPY per ~4 MiB.
 */
export class CopyBuffer {
  private chunks: Buffer[] = []
  private size = 0
  constructor(
    private readonly queue: CopyQueue,
    private readonly table: string,
    private readonly columns: string[],
    private readonly flushBytes = 4 * 1024 * 1024,
  ) {}
  async add(text: string | Uint8Array) {
    if (!text.length) return
    const b = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text.buffer, text.byteOffset, text.byteLength)
    this.chunks.push(b)
    this.size += b.length
    if (this.size >= this.flushBytes) await this.flush()
  }
  async flush() {
    if (!this.chunks.length) return
    const chunks = this.chunks
    const size = this.size
    this.chunks = []
    this.size = 0
    await this.queue.push(this.table, this.columns, chunks, size)
  }
}

const UNESCAPE = /\\(.)/g
const unescapeChar = (_: string, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c)

/**
 * A LoadTx over a transaction that already runs as the server (demo seeding, scripts): no role switches, and
 * COPY text becomes multi-row INSERTs (the plain Sql interface has no COPY).
 */
export function serverLoadTx(sql: Sql): LoadTx {
  return {
    query: sql.query,
    exec: sql.exec,
    asCaller: async () => {},
    asServer: async () => {},
    async copy(table, columns, text) {
      const body = typeof text === 'string' ? text : Buffer.concat(text).toString('utf8')
      const rows = body
        .split('\n')
        .filter((l) => l.length)
        .map((l) => l.split('\t').map((f) => (f === '\\N' ? null : f.replace(UNESCAPE, unescapeChar))))
      const per = Math.max(1, Math.floor(30000 / columns.length))
      for (let i = 0; i < rows.length; i += per) {
        const chunk = rows.slice(i, i + per)
        const params: (string | null)[] = []
        const values = chunk.map((r) => `(${r.map((v) => (params.push(v), `$${params.length}`)).join(', ')})`)
        await sql.query(`insert into ${table} (${columns.join(', ')}) values ${values.join(', ')}`, params)
      }
    },
  }
}
