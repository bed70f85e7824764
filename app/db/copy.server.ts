import type postgres from 'postgres'

/**
 * COPY FROM over postgres.js: a stream the caller writes to, with backpressure, that reports Postgres's
 * rejection of the data (postgres.js alone would hang: see `end`).
 */
export interface CopyStream {
  /**
   * Resolves once the connection has taken the chunk (it is on the socket, or copied by the driver) and takes
   * more (backpressure): the chunk's memory is the caller's again. Throws when the COPY failed.
   */
  write(chunk: Uint8Array): Promise<void>
  end(): Promise<void>
  /** Fails the COPY (CopyFail), so the transaction can roll back. */
  abort(): void
}

type Writable = NodeJS.WritableStream & { on(e: string, f: (...a: any[]) => void): unknown; off(e: string, f: (...a: any[]) => void): unknown }

/** Opens `copy <target> from stdin <options>` on a connection (a transaction: `select 1` probes the same one). */
export async function openCopyStream(q: postgres.Sql | postgres.TransactionSql, target: string, options: string): Promise<CopyStream> {
  const w = (await q.unsafe(`copy ${target} from stdin ${options}`).writable()) as unknown as Writable
  const probe = () => q.unsafe('select 1')
  let failure: unknown = null
  let settle: (() => void) | null = null
  let failed!: () => void
  const failedOnce = new Promise<void>((resolve) => (failed = resolve))
  // Resolves once the last chunk written is on the socket.
  let flushed: Promise<void> = Promise.resolve()
  const finished = new Promise<void>((resolve, reject) => {
    w.on('finish', resolve)
    w.on('error', (e: unknown) => {
      failure ??= e
      reject(e)
      settle?.()
      failed()
    })
  })
  finished.catch(() => {})
  return {
    async write(chunk) {
      if (failure) throw failure
      let done!: () => void
      const taken = (flushed = new Promise<void>((resolve) => (done = resolve)))
      if (!w.write(chunk as Buffer, () => done())) {
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
      // A small chunk may wait in the stream's buffer after write() returned: its bytes are not taken until its
      // callback (callers reuse the memory: shared slots).
      await Promise.race([taken, failedOnce])
      if (failure) throw failure
    },
    async end() {
      if (failure) throw failure
      // The probe must queue after CopyDone: postgres.js refuses queries while the COPY stream is open, which it
      // is until every written chunk is on the socket and end() has run its final step (on a later tick).
      await flushed
      w.end()
      await new Promise((resolve) => setImmediate(resolve))
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
