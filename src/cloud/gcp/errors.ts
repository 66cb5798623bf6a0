/**
 * Reading google-auth-library / gaxios errors without `any`. Only the message, status, URL and the API's own
 * error details are read: the request (with tokens in headers and body) is never touched.
 */
export interface GoogleErrorInfo {
  message: string
  status?: number
  url?: string
  /** The API's `error.status`, e.g. PERMISSION_DENIED, ALREADY_EXISTS. */
  apiStatus?: string
  /** `reason` values of the API's ErrorInfo details, e.g. SERVICE_DISABLED. */
  reasons: string[]
}

export function googleErrorInfo(error: unknown): GoogleErrorInfo {
  if (!(error instanceof Error)) return { message: String(error), reasons: [] }
  const e = error as Error & {
    status?: unknown
    response?: { status?: unknown; data?: unknown }
    config?: { url?: unknown }
  }
  const status =
    typeof e.status === 'number'
      ? e.status
      : typeof e.response?.status === 'number'
        ? e.response.status
        : undefined
  const url =
    e.config?.url instanceof URL
      ? e.config.url.href
      : typeof e.config?.url === 'string'
        ? e.config.url
        : undefined
  const apiError = apiErrorOf(e.response?.data)
  return {
    message: apiError?.message ?? error.message,
    status,
    url,
    apiStatus: apiError?.status,
    reasons: apiError?.reasons ?? [],
  }
}

function apiErrorOf(data: unknown): { message?: string; status?: string; reasons: string[] } | undefined {
  if (typeof data !== 'object' || data === null || !('error' in data)) return undefined
  const err = (data as { error: unknown }).error
  if (typeof err !== 'object' || err === null) return undefined
  const { message, status, details } = err as { message?: unknown; status?: unknown; details?: unknown }
  const reasons = Array.isArray(details)
    ? details.flatMap((d: unknown) =>
        typeof d === 'object' && d !== null && typeof (d as { reason?: unknown }).reason === 'string'
          ? [(d as { reason: string }).reason]
          : [],
      )
    : []
  return {
    message: typeof message === 'string' ? message : undefined,
    status: typeof status === 'string' ? status : undefined,
    reasons,
  }
}
