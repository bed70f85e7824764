/**
 * Shared definitions for datasets: what `usage` means, when a dataset is valid, how its tables and
 * files are named.
 */

export const USAGES: Record<string, string> = {
  p: 'Prediction',
  t: 'Training',
  f: 'Forecasting',
  e: 'Evaluation',
  o: 'Other',
}
const USAGE_WORDS: Record<string, string> = {
  prediction: 'p', predict: 'p', training: 't', train: 't', forecast: 'f', forecasting: 'f', evaluation: 'e', other: 'o',
}

/** The stored usage code for what a caller sent ('p', 'P', 'prediction' → 'p'), or null if unknown. */
export function normalizeUsage(v: string): string | null {
  const s = v.trim().toLowerCase()
  if (USAGES[s]) return s
  return USAGE_WORDS[s] ?? null
}

/**
 * `is_valid`: a dataset is valid — usable for training and prediction — when every file's header matches the
 * template (no missing, renamed or extra column), it has at least one row, and at least VALIDITY_THRESHOLD of
 * its rows are valid. `dataset_usability` is the share of valid rows, shown as a percentage.
 */
export const VALIDITY_THRESHOLD = 0.8

export function usabilityText(valid: number, total: number): string {
  if (!total) return '0%'
  return `${Math.round((valid / total) * 10000) / 100}%`
}

export const ICEBERG_NAME_RE = /^[a-z][a-z0-9_]{0,47}$/

/** A default table name from a dataset name: lower-case letters, digits and _, starting with a letter. */
export function tableNameFrom(datasetName: string): string {
  let s = datasetName
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  if (!/^[a-z]/.test(s)) s = `d_${s}`
  return s.slice(0, 40).replace(/_+$/, '') || 'dataset'
}

/** The physical table of a dataset in a layer: t_<first 8 hex digits of the tenant>_<name>. */
export function physicalTable(tenantId: string, name: string): string {
  return `t_${tenantId.replace(/-/g, '').slice(0, 8).toLowerCase()}_${name}`
}

/** The path a file is known by in the API (`csv_file_path`, `files/download?file_path=`). Never a disk path. */
export function filePath(datasetId: number, fileId: number, fileName: string): string {
  return `/datasets/${datasetId}/files/${fileId}/${fileName}`
}
export const FILE_PATH_RE = /^\/?datasets\/(\d{1,15})\/files\/(\d{1,15})\/([^/]+)$/
