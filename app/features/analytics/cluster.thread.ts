import { segment, type SegmentInput } from './clustering.ts'

/** Runs on a pool thread (runInThread): k-means and silhouette are CPU loops that would block requests. */
export function cluster(input: SegmentInput) {
  const points = { ...input.points, data: new Float64Array(input.points.data.buffer, input.points.data.byteOffset, input.points.n * input.points.d) }
  return segment({ ...input, points })
}
