import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { seededRandom } from './random.ts'

/*
  A customer-churn table shaped like the public IBM Telco churn data (7 043 customers, 26.5 % churn): contract, tenure,
  internet service, payment method, charges. Churn is drawn from a logistic model of those columns, so the best
  possible AUC is about 0.85 (the real data's gradient-boosted AUC). Deterministic from the seed: the demo tenant's
  dataset, and `npm run bench:train`'s real-shaped CSV.
*/

export const CHURN_COLUMNS: ColumnSpec[] = [
  { column_name: 'customerID', data_type: 'String', default_value: null },
  { column_name: 'gender', data_type: 'String', default_value: null },
  { column_name: 'SeniorCitizen', data_type: 'Boolean', default_value: null },
  { column_name: 'Partner', data_type: 'Boolean', default_value: null },
  { column_name: 'Dependents', data_type: 'Boolean', default_value: null },
  { column_name: 'tenure', data_type: 'Integer', default_value: null },
  { column_name: 'PhoneService', data_type: 'Boolean', default_value: null },
  { column_name: 'InternetService', data_type: 'String', default_value: null },
  { column_name: 'TechSupport', data_type: 'Boolean', default_value: null },
  { column_name: 'Contract', data_type: 'String', default_value: null },
  { column_name: 'PaperlessBilling', data_type: 'Boolean', default_value: null },
  { column_name: 'PaymentMethod', data_type: 'String', default_value: null },
  { column_name: 'MonthlyCharges', data_type: 'Float', default_value: null },
  { column_name: 'TotalCharges', data_type: 'Float', default_value: null },
  { column_name: 'Churn', data_type: 'Boolean', default_value: null },
]

const PAYMENT = ['Electronic check', 'Mailed check', 'Bank transfer (automatic)', 'Credit card (automatic)'] as const

/** Draws from weighted choices: `[value, weight][]`, weights summing to 1. */
function weighted<T>(rng: () => number, xs: readonly (readonly [T, number])[]): T {
  let r = rng()
  for (const [v, w] of xs) {
    if ((r -= w) < 0) return v
  }
  return xs[xs.length - 1][0]
}

/** Puts the churn rate near the real data's 26.5 %. */
const OFFSET = 0.3

const yesNo = (b: boolean) => (b ? 'Yes' : 'No')

/** `n` customers as CSV text (header first), the way a CRM export writes them: Yes/No flags, blank TotalCharges for new customers. */
export function churnCsv(n: number, seed = 7043): string {
  const rng = seededRandom(seed)
  const lines = [CHURN_COLUMNS.map((c) => c.column_name).join(',')]
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
  for (let i = 0; i < n; i++) {
    const contract = weighted(rng, [['Month-to-month', 0.55], ['One year', 0.21], ['Two year', 0.24]] as const)
    // Tenure: month-to-month customers are mostly new, two-year ones mostly long-standing (the real data's two humps).
    const base = contract === 'Month-to-month' ? rng() ** 1.8 * 72 : contract === 'One year' ? 12 + rng() * 60 : 24 + rng() ** 0.6 * 48
    const tenure = Math.min(72, Math.max(0, Math.round(base)))
    const senior = rng() < 0.16
    const partner = rng() < 0.48
    const dependents = partner ? rng() < 0.5 : rng() < 0.1
    const phone = rng() < 0.9
    const internet = weighted(rng, [['Fiber optic', 0.44], ['DSL', 0.34], ['No', 0.22]] as const)
    const tech = internet !== 'No' && rng() < (contract === 'Two year' ? 0.55 : 0.25)
    const paperless = rng() < (internet === 'No' ? 0.3 : 0.66)
    const payment = contract === 'Month-to-month' ? weighted(rng, [[PAYMENT[0], 0.48], [PAYMENT[1], 0.22], [PAYMENT[2], 0.15], [PAYMENT[3], 0.15]] as const) : PAYMENT[Math.floor(rng() * 4)]
    const monthly = Math.round((18.25 + (phone ? 10 + rng() * 15 : 0) + (internet === 'Fiber optic' ? 45 + rng() * 25 : internet === 'DSL' ? 20 + rng() * 20 : 0) + (tech ? 5 : 0)) * 100) / 100
    const total = tenure === 0 ? '' : (Math.round(monthly * tenure * (0.93 + rng() * 0.12) * 100) / 100).toFixed(2)
    const z =
      -1.35 +
      (contract === 'Month-to-month' ? 1.3 : contract === 'One year' ? -0.35 : -1.6) -
      1.0 * Math.log1p(tenure / 6) +
      (internet === 'Fiber optic' ? 0.9 : internet === 'No' ? -0.9 : 0) +
      (payment === PAYMENT[0] ? 0.55 : 0) +
      (senior ? 0.3 : 0) +
      (tech ? -0.55 : 0) +
      (paperless ? 0.3 : 0) +
      (partner ? -0.1 : 0) +
      (dependents ? -0.2 : 0) +
      (monthly - 65) / 80
    const churn = rng() < 1 / (1 + Math.exp(-(0.75 * z + OFFSET)))
    const id = `${String(1000 + Math.floor(rng() * 9000))}-${Array.from({ length: 5 }, () => letters[Math.floor(rng() * 26)]).join('')}${i % 10}`
    lines.push([id, rng() < 0.5 ? 'Female' : 'Male', yesNo(senior), yesNo(partner), yesNo(dependents), tenure, yesNo(phone), internet, yesNo(tech), contract, yesNo(paperless), payment, monthly.toFixed(2), total, yesNo(churn)].join(','))
  }
  return lines.join('\n') + '\n'
}
