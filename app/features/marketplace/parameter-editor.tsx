import { useEffect, useState } from 'react'
import { Button } from '#app/components/ui.tsx'
import { queryParameters } from './sql-query.ts'
import { emptyRow, PARAMETER_TYPES, parametersFromRows, rowsFromParameters, undeclared, type ParameterRow } from './sql-parameters.ts'

/*
  A SQL asset's parameters in the provider form: one row per parameter (name, type, default, required), rows added and
  removed, checked as you type; the form sends the same JSON array the API takes (`parameters`). The JSON view stays for
  what the rows do not edit (min, max, enum…): switching back reads it into rows, keeping those keys.
*/

const cell = 'rounded-md border border-slate-300 px-2 py-1.5 text-sm aria-[invalid]:border-rose-500'

/** `onValidity(false)` while a row is in error (the form's submit waits: a default that does not fit is never dropped silently). */
export function ParameterEditor({ query, error, onValidity }: { query: string; error?: string; onValidity?: (valid: boolean) => void }) {
  const [rows, setRows] = useState<ParameterRow[]>([])
  const [json, setJson] = useState<string | null>(null)
  const [jsonError, setJsonError] = useState<string | null>(null)
  const { parameters, errors } = parametersFromRows(rows)
  const valid = json !== null || !Object.keys(errors).length
  useEffect(() => onValidity?.(valid), [valid, onValidity])
  let names: string[] = []
  try {
    names = query.trim() ? queryParameters(query) : []
  } catch {
    // not a single read-only statement (yet): the query field's own check says so
  }
  const missing = undeclared(names, rows)
  const edit = (i: number, patch: Partial<ParameterRow>) => setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)))
  if (json !== null) {
    return (
      <div className="flex flex-col gap-1" role="group" aria-label="Query parameters">
        <div className="flex items-center justify-between">
          <label htmlFor="parameters-json" className="text-sm font-medium text-slate-700">
            Parameters (JSON)
          </label>
          <Button
            type="button"
            variant="secondary"
            onClick={() => {
              let value: unknown
              try {
                value = json.trim() ? JSON.parse(json) : []
              } catch {
                setJsonError('must be a JSON array of parameters')
                return
              }
              const back = rowsFromParameters(value)
              if ('error' in back) setJsonError(back.error)
              else {
                setRows(back)
                setJson(null)
                setJsonError(null)
              }
            }}
          >
            Edit as rows
          </Button>
        </div>
        <textarea id="parameters-json" name="parameters" rows={5} value={json} onChange={(e) => setJson(e.target.value)} aria-invalid={jsonError || error ? true : undefined} className={`${cell} font-mono`} />
        {jsonError || error ? <p className="text-xs text-rose-600">{jsonError ?? error}</p> : <p className="text-xs text-slate-500">Each: name, type (string, integer, number, boolean, date); optional required, default, min, max, enum, max_length, description</p>}
      </div>
    )
  }
  return (
    <div className="flex flex-col gap-2" role="group" aria-label="Query parameters">
      <input type="hidden" name="parameters" value={rows.length ? JSON.stringify(parameters) : ''} />
      <div className="flex flex-wrap items-center justify-between gap-2">
        <span className="text-sm font-medium text-slate-700">Parameters</span>
        <div className="flex gap-2">
          {missing.length ? (
            <Button type="button" variant="secondary" onClick={() => setRows((rs) => [...rs, ...missing.map((n) => emptyRow(n))])}>
              Add {missing.map((n) => `:${n}`).join(', ')}
            </Button>
          ) : null}
          <Button type="button" variant="secondary" onClick={() => setRows((rs) => [...rs, emptyRow()])}>
            Add parameter
          </Button>
          <Button type="button" variant="secondary" onClick={() => setJson(JSON.stringify(parameters, null, 2))}>
            Edit as JSON
          </Button>
        </div>
      </div>
      {rows.length ? (
        <table className="text-sm">
          <thead>
            <tr className="text-left text-xs text-slate-500">
              <th className="pb-1 font-medium">Name</th>
              <th className="pb-1 font-medium">Type</th>
              <th className="pb-1 font-medium">Default</th>
              <th className="pb-1 font-medium">Required</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => {
              const nameErr = errors[`${i}.name`] ?? (error && error.includes(`parameters.${i}.name`) ? error : undefined)
              const defErr = errors[`${i}.default`]
              return (
                <tr key={i} data-testid="parameter-row" className="align-top">
                  <td className="pr-2 pb-2">
                    <input aria-label={`Parameter ${i + 1} name`} value={r.name} onChange={(e) => edit(i, { name: e.target.value })} placeholder="since" aria-invalid={nameErr ? true : undefined} className={`${cell} w-36 font-mono`} />
                    {nameErr ? <p className="text-xs text-rose-600">{nameErr}</p> : null}
                  </td>
                  <td className="pr-2 pb-2">
                    <select aria-label={`Parameter ${i + 1} type`} value={r.type} onChange={(e) => edit(i, { type: e.target.value as ParameterRow['type'] })} className={cell}>
                      {PARAMETER_TYPES.map((t) => (
                        <option key={t} value={t}>
                          {t}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td className="pr-2 pb-2">
                    {r.type === 'boolean' ? (
                      <select aria-label={`Parameter ${i + 1} default`} value={r.default} onChange={(e) => edit(i, { default: e.target.value })} className={cell}>
                        <option value="">(none)</option>
                        <option value="true">true</option>
                        <option value="false">false</option>
                      </select>
                    ) : (
                      <input
                        aria-label={`Parameter ${i + 1} default`}
                        type={r.type === 'date' ? 'date' : 'text'}
                        inputMode={r.type === 'integer' || r.type === 'number' ? 'decimal' : undefined}
                        value={r.default}
                        onChange={(e) => edit(i, { default: e.target.value })}
                        placeholder="(none)"
                        aria-invalid={defErr ? true : undefined}
                        className={`${cell} w-36`}
                      />
                    )}
                    {defErr ? <p className="text-xs text-rose-600">{defErr}</p> : null}
                  </td>
                  <td className="pr-2 pb-2 text-center">
                    <input type="checkbox" aria-label={`Parameter ${i + 1} required`} checked={r.required} onChange={(e) => edit(i, { required: e.target.checked })} className="mt-2" />
                  </td>
                  <td className="pb-2">
                    <Button type="button" variant="secondary" aria-label={`Remove parameter ${i + 1}`} onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}>
                      Remove
                    </Button>
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      ) : (
        <p className="text-xs text-slate-500">No parameters. Mark one in the query with :name, then add it here.</p>
      )}
      {Object.keys(errors).length ? <p className="text-xs text-rose-600" data-testid="parameter-errors">Fix the parameters above before creating the asset.</p> : null}
      {error && !Object.keys(errors).length ? <p className="text-xs text-rose-600">{error}</p> : null}
    </div>
  )
}
