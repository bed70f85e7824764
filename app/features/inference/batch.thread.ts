import type { PreprocessSpec } from '#app/features/ml/preprocess.ts'
import { loadModel, type LoadedModel, type ModelFormat } from '#app/features/ml/scoring.ts'
import { scorePage, type PageLayout, type PageResult } from './batch-page.ts'

/*
  Pool-thread entry of a batch prediction: one page of silver rows → gold COPY text + CSV lines (batch-page.ts). The
  parsed model stays in the thread between pages, keyed by its checksum: a job sends the bytes with every page (a
  copy of a few hundred KB) but each thread parses them once.
*/

const models = new Map<string, LoadedModel>()

export interface PageTask {
  model: { format: ModelFormat; checksum: string; bytes: Uint8Array }
  spec: PreprocessSpec
  layout: PageLayout
  rows: unknown[][]
}

export function score(task: PageTask): PageResult {
  let m = models.get(task.model.checksum)
  if (!m) {
    if (models.size >= 4) models.clear()
    m = loadModel(task.model.format, task.model.bytes)
    models.set(task.model.checksum, m)
  }
  return scorePage(task.spec, m, task.layout, task.rows)
}
