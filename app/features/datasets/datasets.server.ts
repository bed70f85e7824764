/**
 * The datasets area's public surface: routes, UI pages, the demo seed and other areas (training reads silver
 * through forEachSilverBatch) import from here, never from a room. README.md is the map of the rooms behind it.
 */
export { deleteDataset, getDatasetById, getDatasetDetail, listDatasets, listValidatedDatasets, loadDataset, viewDataset } from './catalog/catalog.server.ts'
export { datasetSilver, forEachSilverBatch, periodCondition, type SilverBatch, type SilverPeriod } from './catalog/read-silver.server.ts'
export { deleteFile, downloadFile, fileErrorReport, getFileById, listFiles, viewFile } from './files/files.server.ts'
export { computeStatistics, getStatistics, requestStatistics, STATISTICS_JOB, type ColumnStats, type DatasetStatistics } from './statistics/statistics.server.ts'
export { uploadDataset } from './upload/upload.server.ts'
export { uploadEndpoint } from './upload/endpoint.server.ts'
export { addFiles } from './upload/add-files.server.ts'
export { MAX_FILE_BYTES, MAX_FILES, MAX_UPLOAD_BODY_BYTES } from './receive/receive.server.ts'
export { createDataset, type FileOut, type UploadResult } from './load/load-file.server.ts'
export { ident, serverLoadTx } from './load/load-tx.server.ts'
export { physicalTable } from './model.ts'
