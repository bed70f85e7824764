import { useId, useState, type ReactNode } from 'react'
import { Form, useNavigation } from 'react-router'
import { useRootData } from '#app/root.tsx'

export function PageHeader({ title, description, actions }: { title: string; description?: string; actions?: ReactNode }) {
  return (
    <header className="mb-6 flex flex-wrap items-end justify-between gap-4">
      <div>
        <h1 className="text-2xl font-bold tracking-tight">{title}</h1>
        {description ? <p className="mt-1 text-sm text-slate-600">{description}</p> : null}
      </div>
      {actions}
    </header>
  )
}

export function Card({ title, children, className = '' }: { title?: string; children: ReactNode; className?: string }) {
  return (
    <section className={`rounded-lg border border-slate-200 bg-white p-5 shadow-sm ${className}`}>
      {title ? <h2 className="mb-4 text-lg font-semibold">{title}</h2> : null}
      {children}
    </section>
  )
}

const buttonStyles = {
  primary: 'bg-indigo-600 text-white hover:bg-indigo-500 disabled:bg-indigo-300',
  secondary: 'border border-slate-300 bg-white text-slate-800 hover:bg-slate-50 disabled:text-slate-400',
  danger: 'bg-rose-600 text-white hover:bg-rose-500 disabled:bg-rose-300',
}

export function Button({
  variant = 'primary',
  className = '',
  ...props
}: React.ButtonHTMLAttributes<HTMLButtonElement> & { variant?: keyof typeof buttonStyles }) {
  return (
    <button
      {...props}
      className={`inline-flex items-center justify-center rounded-md px-3 py-2 text-sm font-medium shadow-sm transition ${buttonStyles[variant]} ${className}`}
    />
  )
}

/** A labelled input with its inline error, wired for screen readers. */
export function Field({
  label,
  error,
  hint,
  ...input
}: React.InputHTMLAttributes<HTMLInputElement> & { label: string; error?: string | null; hint?: string }) {
  const id = useId()
  const errId = `${id}-error`
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium text-slate-700">
        {label}
      </label>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errId : undefined}
        className="rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 aria-[invalid]:border-rose-500"
        {...input}
      />
      {hint && !error ? <p className="text-xs text-slate-500">{hint}</p> : null}
      {error ? (
        <p id={errId} className="text-xs text-rose-600">
          {error}
        </p>
      ) : null}
    </div>
  )
}

export function CsrfInput() {
  const root = useRootData()
  return <input type="hidden" name="csrf" value={root?.csrf ?? ''} />
}

/** A form that posts an intent; destructive ones ask for confirmation first. */
export function ActionForm({
  intent,
  fields = {},
  label,
  confirm,
  variant = 'secondary',
}: {
  intent: string
  fields?: Record<string, string>
  label: string
  confirm?: string
  variant?: keyof typeof buttonStyles
}) {
  const [asking, setAsking] = useState(false)
  const nav = useNavigation()
  const busy = nav.state !== 'idle' && nav.formData?.get('intent') === intent
  if (confirm && !asking) {
    return (
      <Button type="button" variant={variant} onClick={() => setAsking(true)}>
        {label}
      </Button>
    )
  }
  return (
    <Form method="post" className="inline-flex items-center gap-2">
      <CsrfInput />
      <input type="hidden" name="intent" value={intent} />
      {Object.entries(fields).map(([k, v]) => (
        <input key={k} type="hidden" name={k} value={v} />
      ))}
      {confirm ? <span className="text-sm text-slate-700">{confirm}</span> : null}
      <Button type="submit" variant={variant} disabled={busy}>
        {confirm ? `Yes, ${label.toLowerCase()}` : label}
      </Button>
      {confirm ? (
        <Button type="button" variant="secondary" onClick={() => setAsking(false)}>
          Cancel
        </Button>
      ) : null}
    </Form>
  )
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-slate-300 p-8 text-center">
      <p className="font-medium text-slate-700">{title}</p>
      {children ? <div className="mt-2 text-sm text-slate-500">{children}</div> : null}
    </div>
  )
}

export function Notice({ kind = 'info', children }: { kind?: 'info' | 'error' | 'success'; children: ReactNode }) {
  const styles = {
    info: 'border-sky-200 bg-sky-50 text-sky-900',
    error: 'border-rose-200 bg-rose-50 text-rose-900',
    success: 'border-emerald-200 bg-emerald-50 text-emerald-900',
  }
  return (
    <div role={kind === 'error' ? 'alert' : 'status'} className={`rounded-md border px-4 py-3 text-sm ${styles[kind]}`}>
      {children}
    </div>
  )
}

export function Table({ headers, children }: { headers: string[]; children: ReactNode }) {
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full divide-y divide-slate-200 text-sm">
        <thead className="bg-slate-50">
          <tr>
            {headers.map((h) => (
              <th key={h} scope="col" className="px-3 py-2 text-left font-semibold text-slate-700">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">{children}</tbody>
      </table>
    </div>
  )
}

/** The product mark: drawn, not an emoji (servers and kiosks often lack emoji fonts). */
export function Logo({ className = '' }: { className?: string }) {
  return (
    <span className={`inline-flex items-center gap-2 font-bold tracking-tight ${className}`}>
      <svg aria-hidden="true" viewBox="0 0 24 24" className="h-6 w-6">
        <defs>
          <linearGradient id="hd-flame" x1="0" y1="1" x2="0" y2="0">
            <stop offset="0" stopColor="#f43f5e" />
            <stop offset="1" stopColor="#f59e0b" />
          </linearGradient>
        </defs>
        <path fill="url(#hd-flame)" d="M12 2c1 4 5 6 5 11a5 5 0 0 1-10 0c0-2.5 1.2-4 2.5-5.5C10 9.5 10.5 11 12 12c0-3-1-6 0-10z" />
      </svg>
      Hot Dash
    </span>
  )
}
