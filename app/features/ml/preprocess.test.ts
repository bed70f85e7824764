import { describe, expect, it } from 'vitest'
import { buildMatrix, describeChanges, encodeTarget, fitPreprocess, MINUS_ONE, targetClasses, transformRecord, transformRows, UNSEEN } from './preprocess.ts'
import { RawTableBuilder, rawRecord } from './raw-table.ts'
import { foldSplit, seededRandom, stratifiedFolds, stratifiedHoldout, strata } from './split.ts'

const COLUMNS = [
  { column_name: 'id', data_type: 'String' as const },
  { column_name: 'amount', data_type: 'Float' as const },
  { column_name: 'calls', data_type: 'Integer' as const },
  { column_name: 'active', data_type: 'Boolean' as const },
  { column_name: 'signup', data_type: 'Date' as const },
  { column_name: 'seen', data_type: 'DateTime' as const },
  { column_name: 'plan', data_type: 'String' as const },
  { column_name: 'city', data_type: 'String' as const },
  { column_name: 'churn', data_type: 'Boolean' as const },
]

/** Rows as silver reads give them: numbers, booleans, 'YYYY-MM-DD' dates, Date objects for date-times, null. */
function silverRows(n: number, seed = 1): unknown[][] {
  const rng = seededRandom(seed)
  const plans = ['Basic', 'Standard', 'Premium']
  return Array.from({ length: n }, (_, i) => [
    `C${i}`,
    i % 17 === 0 ? null : i % 13 === 0 ? -1 : Math.round(rng() * 1000) / 10,
    i % 19 === 0 ? null : Math.floor(rng() * 50) - 5,
    i % 23 === 0 ? null : rng() < 0.4,
    i % 29 === 0 ? null : `202${Math.floor(rng() * 5)}-0${1 + Math.floor(rng() * 9)}-1${Math.floor(rng() * 9)}`,
    i % 31 === 0 ? null : new Date(Date.UTC(2024, 0, 1) + Math.floor(rng() * 3e10)),
    i % 37 === 0 ? null : plans[Math.floor(rng() * 3)],
    // 40 cities: ordinal; the last ones appear only late in the file.
    `city-${Math.floor(rng() * (i > n * 0.9 ? 40 : 30))}`,
    rng() < 0.3,
  ])
}

function table(n: number) {
  const b = new RawTableBuilder(COLUMNS, 8)
  const rows = silverRows(n)
  b.append(rows.slice(0, 100))
  b.append(rows.slice(100))
  return { t: b.finish(), rows }
}

const sameBits = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]) || (v !== v && b[i] !== b[i]))

describe('preprocessing', () => {
  const { t, rows } = table(600)
  const fitRows = Int32Array.from({ length: 480 }, (_, i) => i)
  const classes = targetClasses(t, 'churn')
  const spec = fitPreprocess(t, { target: 'churn', features: ['amount', 'calls', 'active', 'signup', 'seen', 'plan', 'city'], ids: ['id'] }, 'Classification', fitRows, classes)

  it('encodes each type as documented and names every feature', () => {
    expect(classes).toEqual(['false', 'true'])
    const byName = Object.fromEntries(spec.columns.map((c) => [c.column, c]))
    expect(byName.amount.encoding).toBe('numeric')
    expect(byName.active.encoding).toBe('boolean')
    expect(byName.signup).toMatchObject({ encoding: 'date_parts', parts: ['epoch_days', 'year', 'month', 'day', 'weekday', 'dayofyear'] })
    expect(byName.seen).toMatchObject({ encoding: 'date_parts' })
    expect((byName.seen as { parts: string[] }).parts).toContain('hour')
    expect(byName.plan.encoding).toBe('onehot')
    expect(byName.city.encoding).toBe('ordinal')
    expect(spec.features).toContain('plan=Basic')
    expect(spec.features).toContain(`plan=${UNSEEN}`)
    expect(spec.features.length).toBe(1 + 1 + 1 + 6 + 7 + 4 + 1)
    expect(spec.fitted_rows).toBe(480)
  })

  it('fits on the training rows only: a category first seen later is "unseen"', () => {
    const city = spec.columns.find((c) => c.column === 'city') as { categories: string[] }
    const trainCities = new Set(rows.slice(0, 480).map((r) => r[7] as string))
    expect(new Set(city.categories)).toEqual(trainCities)
    const late = rows.findIndex((r, i) => i >= 480 && !trainCities.has(r[7] as string))
    expect(late).toBeGreaterThan(0)
    const x = transformRecord(spec, rawRecord(t, late))
    expect(x[spec.features.indexOf('city')]).toBe(city.categories.length)
  })

  it('round trip: the training matrix equals the one-record transform and the silver-batch transform, bit for bit', () => {
    const all = Int32Array.from({ length: t.rows }, (_, i) => i)
    const m = buildMatrix(spec, t, all)
    const F = spec.features.length
    const viaRows = transformRows(spec, COLUMNS.map((c) => c.column_name), rows)
    expect(sameBits(m, viaRows)).toBe(true)
    for (let i = 0; i < t.rows; i++) expect(sameBits(m.subarray(i * F, (i + 1) * F), transformRecord(spec, rawRecord(t, i)))).toBe(true)
    // The stored object (JSON) transforms the same way.
    const stored = JSON.parse(JSON.stringify(spec))
    expect(sameBits(buildMatrix(stored, t, all), m)).toBe(true)
  })

  it('missing stays NaN; -1 becomes the next float32 up (the trainer reads -1 as missing); dates become parts', () => {
    const F = spec.features.length
    const m = buildMatrix(spec, t, Int32Array.from([0, 13, 17]))
    const amount = spec.features.indexOf('amount')
    expect(Number.isNaN(m[0 * F + amount])).toBe(true) // row 0: 0 % 17 === 0
    expect(m[1 * F + amount]).toBe(MINUS_ONE)
    expect(MINUS_ONE).toBeGreaterThan(-1)
    expect(Math.fround(MINUS_ONE)).toBe(MINUS_ONE)
    expect(Number.isNaN(m[2 * F + amount])).toBe(true)
    const plan = spec.features.indexOf('plan=Basic')
    expect(Number.isNaN(m[plan])).toBe(true) // row 0: no plan (0 % 37 === 0): every one-hot part is missing
    expect(Array.from(m.subarray(F + plan, F + plan + 4)).some(Number.isNaN)).toBe(false)
    const x = transformRecord(spec, { signup: '2024-03-01', seen: '2024-03-01T18:30:00Z', plan: 'Gold', active: 'yes' })
    expect(x[spec.features.indexOf('signup__year')]).toBe(2024)
    expect(x[spec.features.indexOf('signup__month')]).toBe(3)
    expect(x[spec.features.indexOf('signup__weekday')]).toBe(5) // a Friday
    expect(x[spec.features.indexOf('signup__dayofyear')]).toBe(61)
    expect(x[spec.features.indexOf('signup__epoch_days')]).toBe(19783)
    expect(x[spec.features.indexOf('seen__hour')]).toBe(18.5)
    expect(x[spec.features.indexOf(`plan=${UNSEEN}`)]).toBe(1)
    expect(x[spec.features.indexOf('active')]).toBe(1)
    expect(Number.isNaN(x[spec.features.indexOf('amount')])).toBe(true)
  })

  it('the target: class indexes in a fixed order, NaN where missing', () => {
    const y = encodeTarget(spec, t)
    expect(y.length).toBe(600)
    expect(new Set(y)).toEqual(new Set([0, 1]))
  })

  it('describeChanges says what another fit changed and whether the model can read it', () => {
    const other = fitPreprocess(t, { target: 'churn', features: ['amount', 'calls', 'active', 'signup', 'seen', 'plan', 'city'], ids: ['id'] }, 'Classification', Int32Array.from({ length: 600 }, (_, i) => i), classes)
    const d = describeChanges(spec, other)
    expect(d.compatible).toBe(true)
    expect(d.changes.join(' ')).toMatch(/city/)
    const fewer = fitPreprocess(t, { target: 'churn', features: ['amount'], ids: [] }, 'Classification', fitRows, classes)
    expect(describeChanges(spec, fewer)).toMatchObject({ compatible: false })
  })
})

describe('splits', () => {
  const labels = Float64Array.from({ length: 1000 }, (_, i) => (i % 10 < 3 ? 1 : 0))

  it('stratified holdout keeps each class share and is reproducible', () => {
    const s = strata(labels, 'classification')
    const a = stratifiedHoldout(s, 0.2, 7)
    const b = stratifiedHoldout(s, 0.2, 7)
    expect(Array.from(a.valid)).toEqual(Array.from(b.valid))
    expect(a.valid.length).toBe(200)
    expect(Array.from(a.valid).filter((i) => labels[i] === 1).length).toBe(60)
    expect(new Set([...a.train, ...a.valid]).size).toBe(1000)
    expect(Array.from(stratifiedHoldout(s, 0.2, 8).valid)).not.toEqual(Array.from(a.valid))
  })

  it('k-fold: every row in one fold, folds balanced in size and class share', () => {
    const s = strata(labels, 'classification')
    const folds = stratifiedFolds(s, 5, 3)
    for (let f = 0; f < 5; f++) {
      const { valid, train } = foldSplit(folds, f)
      expect(valid.length).toBe(200)
      expect(train.length).toBe(800)
      expect(Array.from(valid).filter((i) => labels[i] === 1).length).toBe(60)
    }
  })

  it('regression strata are target deciles', () => {
    const y = Float64Array.from({ length: 100 }, (_, i) => 100 - i)
    const s = strata(y, 'regression')
    expect(s[0]).toBe(9)
    expect(s[99]).toBe(0)
  })
})
