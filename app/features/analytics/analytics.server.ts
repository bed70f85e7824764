/**
 * The analytics service (AS spec): descriptive, predictive, diagnostic and prescriptive analytics and k-means
 * segmentation over a dataset's silver table. Routes and pages call these functions with the caller's transaction.
 */
export { describe as describeDataset } from './descriptive.server.ts'
export { predictive as predictDataset, getModel } from './predictive.server.ts'
export { diagnose as diagnoseDataset } from './diagnostic.server.ts'
export { prescribe as prescribeDataset } from './prescriptive.server.ts'
export { clusterDataset, getSegmentation } from './segmentation.server.ts'
