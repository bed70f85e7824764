import { seededNormal } from './models.ts'

/*
  Real-shaped series for tests, the benchmark and the demo: level + trend (linear or damped) + seasonality (additive or
  multiplicative, sinusoid plus a harmonic) + noise (white or AR(1)), from a seed.
*/

export interface SimSpec {
  n: number
  m: number
  level?: number
  trend?: number
  damped?: boolean
  amplitude?: number
  multiplicative?: boolean
  noise?: number
  ar?: number
  seed?: number
}

export function simulate(s: SimSpec): number[] {
  const z = seededNormal(s.seed ?? 1)
  const level = s.level ?? 100
  let e = 0
  const out: number[] = []
  let slope = 0
  for (let t = 0; t < s.n; t++) {
    slope = s.damped ? (s.trend ?? 0) * (1 - 0.97 ** (t + 1)) / 0.03 : (s.trend ?? 0) * t
    const phase = s.m > 1 ? (2 * Math.PI * (t % s.m)) / s.m : 0
    const shape = s.m > 1 ? Math.sin(phase) + 0.4 * Math.cos(2 * phase) : 0
    e = (s.ar ?? 0) * e + (s.noise ?? 1) * z()
    const base = level + slope
    const y = s.multiplicative ? base * (1 + (s.amplitude ?? 0) * shape) + e : base + (s.amplitude ?? 0) * shape + e
    out.push(y)
  }
  return out
}
