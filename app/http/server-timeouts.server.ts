import type http from 'node:http'

/**
 * How long the HTTP server waits for a client. Deliberate, not Node's defaults (60 s headers, 300 s per request):
 *
 * - headers: HTTP_HEADERS_TIMEOUT_SECONDS (20). A client must send its request line and headers promptly.
 * - request: HTTP_REQUEST_TIMEOUT_SECONDS (3600): the time to receive the whole request. Sized for the largest body
 *   we take — one upload file of 2 GiB — at a modest 0.6 MB/s (about 5 Mbit/s): 2 GiB / 0.6 MB/s ≈ 3,580 s.
 *   Node's 300 s cut off an honest upload slower than ~7 MB/s near that size. The time to answer does not count.
 * - no socket idle timeout: a long load after the body is in (a 2 GiB file takes minutes) sends no bytes, and
 *   cutting its socket would lose the answer to a request that still commits.
 *
 * A stalled client is cut off much sooner where it holds something: an upload that receives nothing for
 * HD_UPLOAD_IDLE_SECONDS (60) answers 408 and releases its transaction, connection and thread (datasets/receive);
 * other bodies are at most 2 MB and read before any transaction opens. Node checks these limits every 30 s
 * (connectionsCheckingInterval), so a cut comes up to 30 s late.
 */
export function httpTimeouts(env: Record<string, string | undefined> = process.env) {
  const seconds = (name: string, dflt: number) => {
    const v = Number(env[name] ?? dflt)
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number of seconds, got '${env[name]}'`)
    return v * 1000
  }
  const headersTimeoutMs = seconds('HTTP_HEADERS_TIMEOUT_SECONDS', 20)
  const requestTimeoutMs = seconds('HTTP_REQUEST_TIMEOUT_SECONDS', 3600)
  // Node requires headersTimeout <= requestTimeout.
  return { headersTimeoutMs: Math.min(headersTimeoutMs, requestTimeoutMs), requestTimeoutMs }
}

export function applyHttpTimeouts(server: http.Server, t = httpTimeouts()) {
  server.headersTimeout = t.headersTimeoutMs
  server.requestTimeout = t.requestTimeoutMs
  server.timeout = 0
  return server
}
