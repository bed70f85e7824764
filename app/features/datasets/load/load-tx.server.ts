import type { CopyStream } from '#app/db/copy.server.ts'
import { setCaller, type Claims, type Db, type Sql } from '#app/db/db.server.ts'
import { BINARY_HEADER, BINARY_TRAILER } from '../csv/silver-binary.server.ts'
import { uploadIdleMs } from '../receive/receive.server.ts'

export type { CopyStream }

/**
 * One transaction that switches between the caller (RLS applies: metadata rows, permission checks) and the
 * server's own role (creating and bulk-loading the datalake tables, which no API role may touch). Everything
 * commits together or not at all: a failed upload leaves no dataset row and no table.
 */
export interface LoadTx extends Sql {
  asCaller(): Promise<void>
  asServer(): Promise<void>
  /** Bulk-loads COPY data into `table (columns)` (both already quoted); text format unless `format` says otherwise. */
  copy(table: string, columns: string[], chunks: Uint8Array[], format?: CopyFormat): Promise<void>
  /**
   * One COPY left open while the caller writes to it (Postgres only; PGlite takes whole blobs). Nothing else
   * can run on the transaction until end() returns.
   */
  streamCopy?(table: string, columns: string[], format?: CopyFormat): Promise<CopyStream>
}

/** A COPY's options, and the bytes its data starts and ends with (the binary format's header and trailer). */
export interface CopyFormat {
  options: string
  head?: Uint8Array
  tail?: Uint8Array
}

export const COPY_TEXT: CopyFormat = { options: '' }
export const COPY_BINARY: CopyFormat = { options: 'with (format binary)', head: BINARY_HEADER, tail: BINARY_TRAILER }
/** CSV with the given delimiter; `notNull` columns read an empty field as '' (not NULL). */
export function copyCsv(delimiter: string, notNull: string[]): CopyFormat {
  if (!/^[,;|\t]$/.test(delimiter)) throw new Error(`unsupported delimiter ${JSON.stringify(delimiter)}`)
  return { options: `with (format csv, delimiter '${delimiter}'${notNull.length ? `, force_not_null (${notNull.join(', ')})` : ''})` }
}

/**
 * Postgres ends a load transaction left idle this long (twice the client idle limit): a backstop for a load the
 * process stopped driving. A live load that waits for the rest of its body is touched while its client sends.
 */
export const loadIdleMs = () => 2 * uploadIdleMs()

/** Sets the idle-in-transaction limit on a load's transaction (Postgres; PGlite has no other session to protect). */
export async function limitIdle(db: Db, sql: Sql) {
  if (db.engine === 'postgres') await sql.query(`select set_config('idle_in_transaction_session_timeout', $1, true)`, [String(Math.ceil(loadIdleMs()))])
}

export async function withLoadTx<T>(db: Db, claims: Claims, fn: (tx: LoadTx) => Promise<T>): Promise<T> {
  return db.transaction(async (sql) => {
    await limitIdle(db, sql)
    const tx = makeTx(sql, () => setCaller(sql, claims), async () => {
      // Back to the connection's own role for this transaction only; the caller's claims stay set.
      await sql.query(`select set_config('role', 'none', true)`)
    })
    await tx.asCaller()
    return fn(tx)
  })
}

/** A LoadTx over a transaction that already runs as the server (demo seeding, scripts): no role switches. */
export function serverLoadTx(sql: Sql): LoadTx {
  return makeTx(sql, async () => {}, async () => {})
}

function makeTx(sql: Sql, asCaller: () => Promise<void>, asServer: () => Promise<void>): LoadTx {
  const framed = (f: CopyFormat, chunks: Uint8Array[]) => (f.head && chunks.length ? [f.head, ...chunks, f.tail!] : chunks)
  const copyStream = sql.copyStream?.bind(sql)
  return {
    query: sql.query,
    exec: sql.exec,
    copyFrom: sql.copyFrom,
    asCaller,
    asServer,
    copy: (table, columns, chunks, f = COPY_TEXT) => sql.copyFrom(`${table} (${columns.join(', ')})`, f.options, framed(f, chunks)),
    streamCopy:
      copyStream &&
      (async (table, columns, f = COPY_TEXT) => {
        const s = await copyStream(`${table} (${columns.join(', ')})`, f.options)
        if (f.head) await s.write(f.head)
        return {
          write: (c) => s.write(c),
          abort: () => s.abort(),
          async end() {
            if (f.tail) await s.write(f.tail)
            await s.end()
          },
        }
      }),
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
  async push(table: string, columns: string[], chunks: Uint8Array[], bytes: number, format?: CopyFormat) {
    if (this.firstFailure) throw this.firstFailure
    this.enqueue(table, columns, chunks, bytes, format)
    if (this.pendingBytes > this.maxPendingBytes) await this.tail
    if (this.firstFailure) throw this.firstFailure
  }
  /** Queues a COPY without waiting (the caller bounds memory itself). */
  enqueue(table: string, columns: string[], chunks: Uint8Array[], bytes: number, format?: CopyFormat) {
    this.pendingBytes += bytes
    this.tail = this.tail.then(async () => {
      try {
        if (!this.firstFailure) await this.tx.copy(table, columns, chunks, format)
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
