import { isRouteErrorResponse, Link, useRouteError } from 'react-router'

const titles: Record<number, string> = {
  401: 'Please log in',
  403: 'You do not have access to this page',
  404: 'Page not found',
}

/** The one error boundary: per-status messages for responses, a generic one for crashes. */
export function GeneralErrorBoundary() {
  const error = useRouteError()
  let status = 500
  let message = 'Something went wrong on our side. It has been logged.'
  if (isRouteErrorResponse(error)) {
    status = error.status
    const body = error.data as { message?: string } | string | undefined
    message = typeof body === 'string' ? safeMessage(body) : (body?.message ?? error.statusText)
  } else if (import.meta.env.DEV && error instanceof Error) {
    message = error.message
  }
  return (
    <section role="alert" className="rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
      <p className="text-sm font-semibold text-indigo-600">{status}</p>
      <h1 className="mt-1 text-2xl font-bold">{titles[status] ?? 'Error'}</h1>
      <p className="mt-3 text-slate-600">{message}</p>
      <Link to="/" className="mt-6 inline-block text-indigo-700 underline">
        Back to the start page
      </Link>
    </section>
  )
}

function safeMessage(s: string) {
  try {
    const j = JSON.parse(s) as { message?: string }
    return j.message ?? s
  } catch {
    return s
  }
}
