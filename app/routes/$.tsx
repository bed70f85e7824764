import { GeneralErrorBoundary } from '#app/components/error-boundary.tsx'

/** Any path no route claims: a 404 rendered by the one error boundary. */
export function loader() {
  throw new Response(JSON.stringify({ message: 'There is no page at this address.' }), { status: 404, statusText: 'Not Found' })
}

export default function NotFound() {
  return null
}

export function ErrorBoundary() {
  return (
    <main className="mx-auto max-w-2xl p-8">
      <GeneralErrorBoundary />
    </main>
  )
}
