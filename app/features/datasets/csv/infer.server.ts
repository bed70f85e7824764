import { isSystemColumn, MAX_COLUMNS, SYSTEM_COLUMNS, type ColumnSpec } from '#app/features/templates/template-schema.ts'
import { storedBytes, type ReceivedFile } from '../receive/receive.server.ts'
import { CsvError, type CsvLimits } from './csv.server.ts'
import { openCsvRecords } from './csv-records.server.ts'
import { csvFailure } from './failure.server.ts'
import { planFile, planWithoutTemplate, TypeInferer } from './row-validation.server.ts'

/** An upload without a template: infers column types over every row of every stored file (the first file's header defines the columns). */
export async function inferColumns(files: ReceivedFile[], limits?: Partial<CsvLimits>): Promise<ColumnSpec[]> {
  let columns: ColumnSpec[] | null = null
  let inferer: TypeInferer | null = null
  for (const f of files) {
    try {
      const csv = await openCsvRecords(storedBytes(f.key), limits)
      if (!columns) {
        if (csv.header.length > MAX_COLUMNS) {
          throw new CsvError('too_many_columns', `The header has ${csv.header.length} columns; at most ${MAX_COLUMNS} are supported`)
        }
        const validNames = csv.header.filter((h) => Buffer.byteLength(h) <= 63 && !h.toLowerCase().startsWith('_hd_') && !isSystemColumn(h))
        if (validNames.length !== csv.header.length) {
          throw new CsvError('bad_header', `Column names must be at most 63 bytes, must not start with _hd_ and must not be one of ${[...SYSTEM_COLUMNS].join(', ')}`)
        }
        columns = planWithoutTemplate(csv.header, []).columns
        inferer = new TypeInferer(csv.header)
      }
      const plan = planFile(csv.header, columns)
      for await (const b of csv.batches) {
        const rows: string[][] = []
        for (let r = 0; r < b.n; r++) {
          const base = r * b.cols
          rows.push(plan.source.map((i) => (i >= 0 ? b.buf.toString('utf8', b.fs[base + i], b.fe[base + i]) : '')))
        }
        inferer!.observe(rows)
      }
    } catch (e) {
      throw csvFailure(e, f.fileName)
    }
  }
  const types = inferer!.types()
  return columns!.map((c, i) => ({ ...c, data_type: types[i] }))
}
