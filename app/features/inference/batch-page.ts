import { transformRows, type PreprocessSpec } from '#app/features/ml/preprocess.ts'
import { numericCell } from '#app/features/ml/raw-table.ts'
import type { LoadedModel } from '#app/features/ml/scoring.ts'
import { intervalOf, predictionOf, scoreMatrix, topReasons, type ResidualQuantiles } from './score.ts'

/*
  One page of a batch prediction, from silver rows to the text that goes out: COPY text for the gold table and CSV
  lines for the result file, with the counts the job adds up for accuracy. Pure (runs on a pool thread); the same
  scoreMatrix as real time, so a batch row and a real-time answer for the same values agree.
*/

export const REASONS = 3

export interface PageLayout {
  /** Columns of each row, in order: _hd_file_id, _hd_row, then these names. */
  columns: string[]
  /** The training's Id columns present in the dataset (the CSV's id columns). */
  idColumns: string[]
  /** The target column when the dataset carries it (accuracy). */
  target: string | null
  explain: boolean
  residuals: ResidualQuantiles | null
}

export interface PageResult {
  rows: number
  gold: string
  csv: string
  /** Rows whose target was present: correct predictions (classification), residual sums (regression). */
  labelled: number
  correct: number
  sse: number
  sae: number
  sumY: number
  sumY2: number
}

/** The gold table's columns after _hd_file_id, _hd_row: name and Postgres type. */
export function goldColumns(spec: PreprocessSpec, layout: Pick<PageLayout, 'idColumns' | 'target' | 'explain'>): { name: string; type: string }[] {
  const out = layout.idColumns.map((c) => ({ name: c, type: 'text' }))
  const classification = !!spec.target.classes
  out.push({ name: 'prediction', type: classification ? 'text' : 'double precision' })
  if (classification) out.push({ name: 'probability', type: 'double precision' })
  else out.push({ name: 'lower', type: 'double precision' }, { name: 'upper', type: 'double precision' })
  if (layout.target) out.push({ name: 'actual', type: classification ? 'text' : 'double precision' })
  if (layout.explain) {
    for (let k = 1; k <= REASONS; k++) out.push({ name: `reason_${k}_feature`, type: 'text' }, { name: `reason_${k}_shap`, type: 'double precision' }, { name: `reason_${k}_direction`, type: 'text' })
  }
  return out
}

/** The CSV's header: the id column(s), prediction, probability or interval, top-3 reasons. */
export function csvHeader(spec: PreprocessSpec, layout: Pick<PageLayout, 'idColumns' | 'explain'>): string[] {
  const out = layout.idColumns.length ? [...layout.idColumns] : ['row_id']
  out.push('prediction')
  if (spec.target.classes) out.push('probability')
  else out.push('lower', 'upper')
  if (layout.explain) for (let k = 1; k <= REASONS; k++) out.push(`reason_${k}_feature`, `reason_${k}_shap`, `reason_${k}_direction`)
  return out
}

/** COPY text: backslash, tab, newline and carriage return escaped; null as \N. */
function copyText(v: unknown): string {
  if (v === null || v === undefined) return '\\N'
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '\\N'
  return String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
}

/** A CSV cell; a value a spreadsheet would run as a formula gets a leading apostrophe (plain numbers stay). */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v)
  if (/^[=+\-@\t\r]/.test(s) && !/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

const idText = (v: unknown) => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : String(v))

/** A finite number's text, the same in COPY text and in a CSV cell (no sign or character either would change). */
const finiteText = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : null)

export function scorePage(spec: PreprocessSpec, model: LoadedModel, layout: PageLayout, rows: unknown[][]): PageResult {
  const n = rows.length
  // Row layout: [file id, row no, ...layout.columns]
  const names = ['_hd_file_id', '_hd_row', ...layout.columns]
  const x = transformRows(spec, names, rows)
  const s = scoreMatrix(spec, model, x, n, { explain: layout.explain })
  const idPos = layout.idColumns.map((c) => names.indexOf(c))
  const targetPos = layout.target ? names.indexOf(layout.target) : -1
  const classification = !!spec.target.classes
  // Per page, not per row: the class labels' cells (the prediction of every classified row is one of them).
  const labelGold = classification ? spec.target.classes!.map(copyText) : []
  const labelCsv = classification ? spec.target.classes!.map(csvCell) : []
  const out: PageResult = { rows: n, gold: '', csv: '', labelled: 0, correct: 0, sse: 0, sae: 0, sumY: 0, sumY2: 0 }
  const gold: string[] = new Array(n)
  const csv: string[] = new Array(n)
  /** The row's text so far (gold: tab-separated COPY cells, csv: comma-separated cells). */
  let g = ''
  let c = ''
  /** A cell in both texts; a finite number is converted once. */
  const both = (v: unknown) => {
    const t = finiteText(v)
    g += '\t' + (t ?? copyText(v))
    c += ',' + (t ?? csvCell(v))
  }
  for (let i = 0; i < n; i++) {
    const r = rows[i]
    g = copyText(r[0]) + '\t' + copyText(r[1])
    if (idPos.length) {
      for (let k = 0; k < idPos.length; k++) {
        const id = idText(r[idPos[k]])
        g += '\t' + copyText(id)
        c = k === 0 ? csvCell(id) : c + ',' + csvCell(id)
      }
    } else c = csvCell(`${r[0]}:${r[1]}`)
    const prediction = predictionOf(spec, s, i)
    if (classification) {
      g += '\t' + labelGold[s.classIndex![i]]
      c += ',' + labelCsv[s.classIndex![i]]
      both(s.value[i])
    } else {
      both(prediction)
      const iv = intervalOf(s.value[i], layout.residuals)
      both(iv?.lower ?? null)
      both(iv?.upper ?? null)
    }
    if (targetPos >= 0) {
      const actual = r[targetPos]
      if (actual === null || actual === undefined) g += '\t\\N'
      else if (classification) {
        const label = String(actual)
        g += '\t' + copyText(label)
        out.labelled++
        if (label === prediction) out.correct++
      } else {
        const y = numericCell(spec.target.data_type, actual)
        g += '\t' + copyText(y === y ? y : null)
        if (y === y) {
          const e = y - (prediction as number)
          out.labelled++
          out.sse += e * e
          out.sae += Math.abs(e)
          out.sumY += y
          out.sumY2 += y * y
        }
      }
    }
    if (layout.explain) {
      const reasons = topReasons(spec, s, i, REASONS)
      for (let k = 0; k < REASONS; k++) {
        const rs = reasons[k]
        both(rs?.feature ?? null)
        both(rs?.shap ?? null)
        both(rs?.direction ?? null)
      }
    }
    gold[i] = g
    csv[i] = c
  }
  out.gold = n ? gold.join('\n') + '\n' : ''
  out.csv = n ? csv.join('\r\n') + '\r\n' : ''
  return out
}
