import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { openCsv, type CsvLimits } from './csv.server.ts'
import { planFile, RowProcessor, type ProcessorCounts } from './row-validation.ts'

/**
 * One CSV file turned into COPY text for bronze, silver and the error report, in chunks of about
 * `flushBytes`: the same work whether it runs on the request's thread or on a pool thread (encode.thread.ts).
 */

export interface EncodedChunk {
  bronze: Uint8Array | null
  silver: Uint8Array | null
  errors: Uint8Array | null
  /** Total bytes of the three. */
  bytes: number
}

export interface EncodedFile {
  header: string[]
  delimiter: string
  counts: ProcessorCounts
}

export interface EncodeOptions {
  columns: ColumnSpec[]
  fileId: number
  tenantId: string
  limits?: Partial<CsvLimits>
  flushBytes: number
}

class Part {
  chunks: Buffer[] = []
  size = 0
  add(text: string) {
    if (!text) return
    const b = Buffer.from(text, 'utf8')
    this.chunks.push(b)
    this.size += b.length
  }
  take(): Buffer | null {
    if (!this.chunks.length) return null
    const out = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size)
    this.chunks = []
    this.size = 0
    return out
  }
}

/** Yields COPY chunks (bronze, silver, errors, in file order) and returns the header and counts. Throws CsvError. */
export async function* encodeCsv(source: AsyncIterable<Uint8Array>, o: EncodeOptions): AsyncGenerator<EncodedChunk, EncodedFile> {
  const csv = await openCsv(source, { batchRows: 1000, ...o.limits })
  const proc = new RowProcessor(planFile(csv.header, o.columns), o.fileId, { tenantId: o.tenantId })
  const bronze = new Part()
  const silver = new Part()
  const errors = new Part()
  const take = (): EncodedChunk => {
    const bytes = bronze.size + silver.size + errors.size
    return { bronze: bronze.take(), silver: silver.take(), errors: errors.take(), bytes }
  }
  errors.add(proc.headerErrorLines())
  for await (const batch of csv.batches) {
    const out = proc.processBatch(batch.rows, batch.firstRow, batch.plain)
    bronze.add(out.bronze)
    silver.add(out.silver)
    errors.add(out.errors)
    if (bronze.size + silver.size + errors.size >= o.flushBytes) yield take()
  }
  if (bronze.size + silver.size + errors.size) yield take()
  return { header: csv.header, delimiter: csv.delimiter, counts: proc.counts() }
}
