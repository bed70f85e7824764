import { seedDatasets } from './datasets.server.ts'
import { seedModels } from './models.server.ts'
import { seedOps } from './ops.server.ts'
import type { Seeder } from './seed.server.ts'

/** Every feature's demo-data step, run in this order after the demo tenants and users exist. */
export const SEEDERS: Array<[string, Seeder]> = [
  ['seedOps', seedOps],
  ['seedDatasets', seedDatasets],
  ['seedModels', seedModels],
]
