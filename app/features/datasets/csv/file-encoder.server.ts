import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import type { CsvLimits } from './csv.server.ts'
import { openCsvRecords } from './csv-records.server.ts'
import { bronzeLayout, planFile, RowProcessor, type BronzeLayout, type ProcessorCounts } from './row-validation.server.ts'
import { ByteOut, type BufferLender } from './silver-binary.server.ts'

/**
 * One CSV file turned into COPY data for bronze (CSV), silver (binary) and the error report (text), in chunks of
 * about `flushBytes`: the same work whether it runs on the request's thread or on a pool thread (encode.thread.ts).
 */

export interface EncodedChunk {
  /** Bronze lines, CSV with `layout.delimiter`. */
  bronze: Uint8Array | null
  /** Silver rows in binary COPY format, without the format's header and trailer. */
  silver: Uint8Array | null
  /** The lender's slots bronze and silver are in (-1: buffers of their own); whoever writes them releases them. */
  bronzeSlot: number
  silverSlot: number
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
  /** Lends bronze and silver their buffers (a SlotRing shared with the request's thread). */
  lender?: BufferLender
}

/** The size of each output buffer: a chunk is flushed once its parts reach flushBytes, plus at most a row. */
export const bufferBytes = (flushBytes: number) => flushBytes + (flushBytes >> 2)

/** Yields COPY chunks (bronze, silver, errors, in file order) and returns the header and counts. Throws CsvError. */
export async function* encodeCsv(source: AsyncIterable<Uint8Array>, o: EncodeOptions): AsyncGenerator<EncodedChunk, EncodedFile> {
  const csv = await openCsvRecords(source, o.limits)
  const { delimiter } = csv.dialect
  const plan = planFile(csv.header, o.columns)
  const proc = new RowProcessor(plan, o.fileId, { tenantId: o.tenantId, delimiter })
  const bronze = new ByteOut(bufferBytes(o.flushBytes), o.lender)
  const silver = new ByteOut(bufferBytes(o.flushBytes), o.lender)
  let errors = proc.headerErrorLines()
  let layout: ChunkLayout | undefined = { ...bronzeLayout(plan), delimiter }
  const take = (): EncodedChunk => {
    const e = errors ? Buffer.from(errors, 'utf8') : null
    errors = ''
    const bytes = bronze.pos + silver.pos + (e?.length ?? 0)
    const b = bronze.takeSlot()
    const s = silver.takeSlot()
    const chunk: EncodedChunk = { bytes, bronze: b?.bytes ?? null, silver: s?.bytes ?? null, bronzeSlot: b?.slot ?? -1, silverSlot: s?.slot ?? -1, errors: e, layout }
    layout = undefined
    return chunk
  }
  // The layout goes first, alone: a second connection opens bronze's COPY at once, so its transaction is never left
  // idle while the first rows arrive from a slow client (Postgres ends idle upload transactions: load-tx.server.ts).
  yield take()
  for await (const batch of csv.batches) {
    errors += proc.processRecords(batch, bronze, silver)
    if (bronze.pos + silver.pos + errors.length >= o.flushBytes) yield take()
  }
  if (bronze.pos + silver.pos + errors.length) yield take()
  bronze.dispose()
  silver.dispose()
  return { header: csv.header, delimiter, counts: proc.counts() }
}
