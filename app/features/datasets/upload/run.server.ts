import crypto from 'node:crypto'

/**
 * One upload's own state, created when its request starts and passed down to the load: never module-level, so two
 * uploads running at once keep their own timings. HD_UPLOAD_TIMING=1 prints each phase (bench/datasets.ts).
 */
export class UploadRun {
  readonly id = crypto.randomBytes(4).toString('hex')
  readonly startedAt = performance.now()
  readonly phases: { phase: string; ms: number }[] = []

  mark(phase: string) {
    const ms = Math.round(performance.now() - this.startedAt)
    this.phases.push({ phase, ms })
    if (process.env.HD_UPLOAD_TIMING) console.log(`[upload ${this.id}] ${phase} after ${ms} ms`)
  }
}
