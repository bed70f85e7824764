import { asCaller, type Db } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { ApiError, badRequest, notFound } from '#app/http/errors.server.ts'
import type { CsvLimits } from '../csv/csv.server.ts'
import { loadFile, refreshDatasetTotals, type DatasetTarget, type FileOut, type UploadResult } from '../load/load-file.server.ts'
import { withLoadTx } from '../load/load-tx.server.ts'
import { deleteStored, receiveUpload } from '../receive/receive.server.ts'
import { admitUpload } from './admission.server.ts'
import { UploadRun } from './run.server.ts'

/**
 * POST /api/v1/files/add?dataset_id=: files stored whole first, then loaded into the dataset's existing tables in
 * one transaction (bronze after silver, on one connection), validated against the dataset's columns.
 */
export async function addFiles(db: Db, caller: Caller, request: Request, datasetId: number, limits?: Partial<CsvLimits>): Promise<UploadResult> {
  // Before reading the upload: an unknown (or another tenant's) dataset is a 404 without storing anything.
  const known = await asCaller(db, caller.claims, (tx) => tx.query(`select 1 from public.datasets where id = $1`, [datasetId]))
  if (!known.rows.length) throw notFound('Dataset', datasetId)
  const release = admitUpload(caller.tenantId)
  try {
    const run = new UploadRun()
    const { files } = await receiveUpload(request, caller.tenantId)
    run.mark('received')
    try {
      if (!files.length) throw badRequest('files', "no file was sent (multipart part 'files')")
      return await withLoadTx(db, caller.claims, async (tx) => {
        const { rows } = await tx.query<{ id: number; dataset_name: string; data_source: string; columns: ColumnSpec[] }>(
          `select d.id, d.dataset_name, d.data_source, d.columns from public.datasets d where d.id = $1 for update`,
          [datasetId],
        )
        if (!rows.length) throw notFound('Dataset', datasetId)
        const { rows: tables } = await tx.query<{ schema_name: string; table_name: string }>(
          `select schema_name, table_name from public.dataset_tables where dataset_id = $1`,
          [datasetId],
        )
        const bronze = tables.find((t) => t.schema_name === 'bronze')?.table_name
        const silver = tables.find((t) => t.schema_name === 'silver')?.table_name
        if (!bronze || !silver) throw new ApiError(409, 'CONFLICT', 'The dataset has no datalake tables')
        const target: DatasetTarget = { id: datasetId, tenantId: caller.tenantId, columns: rows[0].columns, bronze, silver }
        const out: FileOut[] = []
        for (const f of files) out.push(await loadFile(tx, target, f, { limits, phases: run }))
        await refreshDatasetTotals(tx, datasetId)
        await tx.query(`update public.datasets set modified_at = now() where id = $1`, [datasetId])
        return { dataset_id: datasetId, dataset_name: rows[0].dataset_name, data_source: rows[0].data_source, files: out }
      })
    } catch (e) {
      await deleteStored(files)
      throw e
    }
  } finally {
    release()
  }
}
