export { loader } from './api.v1.utils.health-check.ts'
