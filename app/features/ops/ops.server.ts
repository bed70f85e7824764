/**
 * The ops area's public surface (operations analytics over a shop and its support agents): routes, pages, the demo
 * seed and other areas import from here. schemas.ts holds the inputs; detector.ts and redact.ts are the pure rules;
 * components.tsx the pages' pieces. README.md is the map.
 */
export { getActiveAnomalies, getDashboardSummary, getHourlyTrends, type Anomaly, type DashboardSummary, type HourlyTrend } from './dashboard.server.ts'
export { getAgentAccuracy, getAgentSummary, getQueueMetrics, getTrainingQuality, type AgentSummary } from './agent-metrics.server.ts'
export { decideApproval, getApproval, listApprovals } from './approvals.server.ts'
export { exportResponse } from './export.server.ts'
export { ingest, type IngestError, type IngestResult } from './ingest.server.ts'
export { refreshOpsViews, requestOpsRefresh } from './refresh.server.ts'
export { opsViews } from './views-cache.server.ts'
