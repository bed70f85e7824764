import { ApiError } from '#app/http/errors.server.ts'
import { CsvError } from './csv.server.ts'

/**
 * A problem with a file's content as the 400 the caller sees, naming the file: a CsvError from the reader, or a row
 * Postgres refuses to store because of its shape. Anything else is returned as it is (a server fault).
 */
export function csvFailure(e: unknown, fileName: string): unknown {
  if (e instanceof CsvError) {
    return new ApiError(400, 'INVALID_DATASET', `${fileName}: ${e.message}`, {
      file: fileName,
      rule: e.rule,
      ...e.details,
      fields: [{ field: 'files', message: `${fileName}: ${e.message}` }],
    })
  }
  // A row wider than a Postgres page can hold (many wide columns): the file's shape, not a server fault.
  const code = (e as { code?: string } | null)?.code
  if (code === '54000' || code === '54011') {
    const message = `${fileName}: a row is too wide to store (too many columns or too much text in one row)`
    return new ApiError(400, 'INVALID_DATASET', message, { file: fileName, rule: 'row_too_wide', fields: [{ field: 'files', message }] })
  }
  // On PostgreSQL the driver loses the COPY's own error (see db/copy.server.ts): after validation, the rows' width is the cause.
  if ((e as { copyRejected?: boolean } | null)?.copyRejected) {
    const message = `${fileName}: the database rejected the rows (a row is probably too wide: too many columns or too much text in one row)`
    return new ApiError(400, 'INVALID_DATASET', message, { file: fileName, rule: 'rows_rejected', fields: [{ field: 'files', message }] })
  }
  return e
}
