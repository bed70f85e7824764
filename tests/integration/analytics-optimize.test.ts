import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'
import { MARKETING_SCHEMA, marketingCsv, marketingRows, uploadDataset } from '#tests/support/analytics-data.ts'
import { olsRows } from '#tests/support/ols.ts'
import { ORACLE_TIMEOUT, pythonMissing, runPython, skipNote } from '#tests/support/python.ts'

/** POST /api/v1/analytics/prescriptive: the fitted response model and HiGHS's optimum, checked on the test side. */

let app: TestApp
let a: TestTenant
let b: TestTenant
let id: number
const rows = marketingRows(240, 1)
const complete = rows.filter((r) => r.marketing_spend !== null)

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  id = await uploadDataset(app, a.admin, 'sales', MARKETING_SCHEMA, marketingCsv(rows))
})
afterAll(() => app.close())

const post = (body: unknown, headers: Record<string, string> = a.viewer.auth) => json(app.fetch('/api/v1/analytics/prescriptive', { method: 'POST', headers, json: body }))
const rel = (got: number, want: number, tol = 1e-7) => expect(Math.abs(got - want) / Math.max(Math.abs(want), 1e-12), `${got} vs ${want}`).toBeLessThan(tol)
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length

describe('prescriptive: fitted response curves', () => {
  const spend = complete.map((r) => r.marketing_spend!)
  const price = complete.map((r) => r.price)
  const y = complete.map((r) => r.revenue)
  const ms = mean(spend)
  const mp = mean(price)
  const fit = olsRows([spend, spend.map((v) => (v - ms) ** 2), price, price.map((v) => (v - mp) ** 2)], y)
  const response = (s: number, p: number) => fit.predict([s, (s - ms) ** 2, p, (p - mp) ** 2])

  it('fits quadratic curves, optimises under the budget and compares with the current levels', async () => {
    const r = await post({ dataset_id: String(id), objective: 'maximize_revenue', variables: ['marketing_spend', 'price'], constraints: { budget: 8000, budget_variables: ['marketing_spend'] }, segments: 40 })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body.status).toBe('success')
    const curves = r.body.model.curves
    rel(curves[0].coefficients[0], fit.beta[1], 1e-6)
    rel(curves[0].coefficients[1], fit.beta[2], 1e-6)
    rel(curves[1].coefficients[1], fit.beta[4], 1e-6)
    expect(curves[0].domain).toEqual([Math.min(...spend), Math.max(...spend)])
    // Test-side optimum: a grid over the box, within the budget.
    let best = -Infinity
    let arg = [0, 0]
    for (let s = Math.min(...spend); s <= 8000; s += 10) {
      for (let p = Math.min(...price); p <= Math.max(...price); p += 0.05) {
        const v = response(s, p)
        if (v > best) [best, arg] = [v, [s, p]]
      }
    }
    const opt = r.body.optimal_solution
    expect(opt.marketing_spend).toBeLessThanOrEqual(8000 + 1e-6)
    expect(Math.abs(opt.price - arg[1])).toBeLessThan(1)
    expect(opt.predicted_value).toBeGreaterThan(best - 5)
    rel(opt.predicted_value, response(opt.marketing_spend, opt.price), 1e-6)
    // current levels: the mean of the latest 30 rows by date
    const last = complete.slice(-30)
    const x0 = [mean(last.map((x) => x.marketing_spend!)), mean(last.map((x) => x.price))]
    rel(r.body.recommendations[0].current_value, x0[0], 1e-9)
    rel(opt.expected_outcome_value, opt.predicted_value - response(x0[0], x0[1]), 1e-5)
    expect(opt.expected_outcome).toMatch(/^[+−][\d,]+ revenue$/)
    const rec = r.body.recommendations[0]
    expect(rec.action).toBe(opt.marketing_spend > x0[0] ? 'increase_marketing_spend' : 'decrease_marketing_spend')
    expect(rec.change).toMatch(/^[+−][\d.,]+%$/)
    rel(rec.expected_roi, rec.expected_impact / (opt.marketing_spend - x0[0]), 1e-9)
    expect(rec.confidence).toBeGreaterThan(0.5)
    expect(rec.confidence).toBeLessThanOrEqual(1)
    expect(r.body.solver).toMatchObject({ name: 'HiGHS', status: 'optimal', kind: 'LP' })
    expect(r.body.constraints.find((c: { name: string }) => c.name === 'budget').activity).toBeCloseTo(opt.marketing_spend, 6)
  })

  it('takes integrality, bounds and resources into the program', async () => {
    const r = await post({
      dataset_id: id,
      objective: 'maximize_revenue',
      variables: ['marketing_spend', 'price'],
      constraints: { bounds: { price: { min: 95, max: 99 } }, integer: ['price'], resources: ['staff', { name: 'cash', limit: 7000, usage: { marketing_spend: 1 } }] },
    })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    const opt = r.body.optimal_solution
    expect(Number.isInteger(Math.round(opt.price * 1e6) / 1e6)).toBe(true)
    expect(opt.price).toBeGreaterThanOrEqual(95 - 1e-9)
    expect(opt.price).toBeLessThanOrEqual(99 + 1e-9)
    expect(opt.marketing_spend).toBeLessThanOrEqual(7000 + 1e-6)
    expect(r.body.solver.kind).toBe('MIP')
    // staff, a column that is not a variable: its use modelled from the variables, capped at the most seen
    const staffFit = olsRows([complete.map((x) => x.marketing_spend!), complete.map((x) => x.price)], complete.map((x) => x.staff))
    const staff = r.body.constraints.find((c: { name: string }) => c.name === 'resources.staff')
    rel(staff.limit, Math.max(...complete.map((x) => x.staff)) - staffFit.beta[0], 1e-6)
  })

  it('says which constraints conflict: 422 naming the budget and the bound', async () => {
    const r = await post({ dataset_id: id, objective: 'maximize_revenue', variables: ['marketing_spend', 'price'], constraints: { budget: 5000, budget_variables: ['marketing_spend'], bounds: { marketing_spend: { min: 6000 } } } })
    expect(r.status).toBe(422)
    expect(r.body.error.details.status).toBe('infeasible')
    expect(r.body.error.details.constraints).toContain('budget')
    expect(r.body.error.details.bounds).toContain('bounds.marketing_spend')
    expect(r.body.error.message).toMatch(/budget/)
  })

  it('answers bad input with a 4xx naming the field, and never another tenant’s data', async () => {
    const base = { dataset_id: id, objective: 'maximize_revenue', variables: ['marketing_spend'] }
    const cases: [unknown, string][] = [
      [{ ...base, objective: 'maximize_profit' }, 'objective'],
      [{ ...base, objective: 'grow_revenue' }, 'objective'],
      [{ ...base, variables: ['nope'] }, 'variables[0]'],
      [{ ...base, variables: ['region'] }, 'variables[0]'],
      [{ ...base, variables: ['revenue'] }, 'variables[0]'],
      [{ ...base, constraints: { bounds: { price: { min: 1 } } } }, 'constraints.bounds.price'],
      [{ ...base, constraints: { bounds: { marketing_spend: { min: 9, max: 1 } } } }, 'constraints.bounds.marketing_spend'],
      [{ ...base, constraints: { resources: ['nope'] } }, 'constraints.resources[0]'],
      [{ ...base, constraints: { budget: 'lots' } }, 'constraints.budget'],
      [{ ...base, constraints: { integer: ['price'] } }, 'constraints.integer[0]'],
      [{ ...base, response_curve: 'cubic' }, 'response_curve'],
      [{ objective: 'maximize_revenue', variables: ['x'] }, 'dataset_id'],
    ]
    for (const [body, field] of cases) {
      const r = await post(body)
      expect(r.status, JSON.stringify(body)).toBe(400)
      const named = [r.body.error.details.field, ...(r.body.error.details.fields ?? []).map((f: { field: string }) => f.field)].join(' ')
      expect(named, JSON.stringify(r.body)).toContain(field)
    }
    expect((await post(base, b.admin.auth)).body.error.code).toBe('INVALID_DATASET')
  })
})

describe('prescriptive: an explicit program', () => {
  const lp = {
    sense: 'maximize',
    objective: { chairs: 30, tables: 50, shelves: 20 },
    constraints: [
      { name: 'carpentry', coefficients: { chairs: 1, tables: 2, shelves: 1 }, max: 40 },
      { name: 'finishing', coefficients: { chairs: 2, tables: 1, shelves: 1 }, max: 50 },
      { name: 'min_shelves', coefficients: { shelves: 1 }, min: 2 },
    ],
    bounds: { tables: { max: 15 } },
  }

  it('returns HiGHS’s optimum, the same as scipy.optimize.linprog', async () => {
    const r = await post({ lp })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    const mip = await post({ lp: { ...lp, integers: ['chairs', 'tables', 'shelves'], constraints: [{ ...lp.constraints[0], max: 41 }, ...lp.constraints.slice(1)] } })
    expect(mip.status).toBe(200)
    for (const v of ['chairs', 'tables', 'shelves']) expect(Number.isInteger(Math.round(mip.body.optimal_solution[v] * 1e6) / 1e6)).toBe(true)
    expect(r.body.constraints.map((c: { name: string }) => c.name)).toEqual(['carpentry', 'finishing', 'min_shelves'])
    const why = pythonMissing(['scipy'])
    if (why) return skipNote('LP vs scipy linprog', why)
    const py = runPython(
      `import json,sys
from scipy.optimize import linprog
c=[-30,-50,-20]; A=[[1,2,1],[2,1,1],[0,0,-1]]
r=linprog(c,A_ub=A,b_ub=[40,50,-2],bounds=[(0,None),(0,15),(0,None)],method='highs')
m=linprog(c,A_ub=A,b_ub=[41,50,-2],bounds=[(0,None),(0,15),(0,None)],method='highs',integrality=[1,1,1])
print(json.dumps({'lp':-r.fun,'mip':-m.fun}))`,
      {},
    )
    expect(r.body.optimal_solution.objective_value).toBeCloseTo(py.lp, 7)
    expect(mip.body.optimal_solution.objective_value).toBeCloseTo(py.mip, 7)
  }, ORACLE_TIMEOUT)

  it('names the infeasible rows and the unbounded variable (422)', async () => {
    const bad = await post({ lp: { ...lp, constraints: [...lp.constraints, { name: 'too_many_tables', coefficients: { tables: 1 }, min: 30 }] } })
    expect(bad.status).toBe(422)
    expect(bad.body.error.details).toMatchObject({ status: 'infeasible' })
    expect([...bad.body.error.details.constraints, ...bad.body.error.details.bounds]).toEqual(expect.arrayContaining(['too_many_tables', 'bounds.tables']))
    const open = await post({ lp: { sense: 'maximize', objective: { x: 1, y: 1 }, constraints: [{ name: 'c', coefficients: { x: -1, y: 1 }, max: 1 }], bounds: { y: { max: 3 } } } })
    expect(open.status).toBe(422)
    expect(open.body.error.details).toMatchObject({ status: 'unbounded', variables: ['x'], field: 'lp.bounds.x' })
    for (const [body, field] of [
      [{ lp: { ...lp, constraints: [{ name: 'c', coefficients: { chairs: 1 } }] } }, 'lp.constraints[0]'],
      [{ lp: { ...lp, integers: ['stools'] } }, 'lp.integers[0]'],
      [{ lp: { ...lp, sense: 'up' } }, 'lp.sense'],
      [{ lp: { ...lp, objective: {} } }, 'lp.objective'],
      [{ lp: { ...lp, bounds: { chairs: { min: 5, max: 1 } } } }, 'lp.bounds.chairs'],
    ] as const) {
      const r = await post(body)
      expect(r.status, JSON.stringify(body)).toBe(400)
      const named = [r.body.error.details.field, ...(r.body.error.details.fields ?? []).map((f: { field: string }) => f.field)].join(' ')
      expect(named).toContain(field)
    }
  })
})
