import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import type { CsvLimits } from './csv.server.ts'
import { openCsvRecords } from './csv-records.ts'
import { bronzeLayout, planFile, RowProcessor, type BronzeLayout, type ProcessorCounts } from './row-validation.ts'
import { ByteOut } from './silver-binary.ts'

/**
 * One CSV file turned into COPY data for bronze (CSV), silver (binary) and the error report (text), in chunks of
 * about `flushBytes`: the same work whether it runs on the request's thread or on a pool thread (encode.thread.ts).
 */

export interface EncodedChunk {
  /** Bronze lines, CSV with `layout.delimiter`. */
  bronze: Uint8Array | null
  /** Silver rows in binary COPY format, without the format's header and trailer. */
  silver: Uint8Array | null
  /** Error-report lines, COPY text. */
  errors: Uint8Array | null
  /** Total bytes of the three. */
  bytes: number
  /** On the first chunk: how bronze lines are laid out (the COPY's column list and options follow it). */
  layout?: ChunkLayout
}

export interface ChunkLayout extends BronzeLayout {
  delimiter: string
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

/** Yields COPY chunks (bronze, silver, errors, in file order) and returns the header and counts. Throws CsvError. */
export async function* encodeCsv(source: AsyncIterable<Uint8Array>, o: EncodeOptions): AsyncGenerator<EncodedChunk, EncodedFile> {
  const csv = await openCsvRecords(source, o.limits)
  const { delimiter } = csv.dialect
  const plan = planFile(csv.header, o.columns)
  const proc = new RowProcessor(plan, o.fileId, { tenantId: o.tenantId, delimiter })
  const bronze = new ByteOut(o.flushBytes + (o.flushBytes >> 2))
  const silver = new ByteOut(o.flushBytes + (o.flushBytes >> 2))
  let errors = proc.headerErrorLines()
  let layout: ChunkLayout | undefined = { ...bronzeLayout(plan), delimiter }
  const take = (): EncodedChunk => {
    const e = errors ? Buffer.from(errors, 'utf8') : null
    errors = ''
    const chunk: EncodedChunk = { bytes: bronze.pos + silver.pos + (e?.length ?? 0), bronze: bronze.take(), silver: silver.take(), errors: e, layout }
    layout = undefined
    return chunk
  }
  for await (const batch of csv.batches) {
    errors += proc.processRecords(batch, bronze, silver)
    if (bronze.pos + silver.pos + errors.length >= o.flushBytes) yield take()
  }
  if (bronze.pos + silver.pos + errors.length || layout) yield take()
  return { header: csv.header, delimiter, counts: proc.counts() }
}
