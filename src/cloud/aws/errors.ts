/**
 * Reading AWS SDK errors without `any`: the SDK throws ServiceException subclasses whose `name` is the AWS error
 * code; network failures come through as plain Errors with a Node `code`.
 */
export interface AwsErrorInfo {
  name: string
  message: string
  httpStatus?: number
  /** Set by the SDK for errors its model marks as throttling/transient. */
  retryable: boolean
  /** Node's socket error code (ECONNRESET, ...) for network failures. */
  code?: string
}

export function awsErrorInfo(error: unknown): AwsErrorInfo {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), retryable: false }
  const fields = error as Error & {
    $metadata?: { httpStatusCode?: number }
    $retryable?: unknown
    code?: unknown
    Code?: unknown
  }
  return {
    name: typeof fields.Code === 'string' ? fields.Code : error.name,
    message: error.message,
    httpStatus: fields.$metadata?.httpStatusCode,
    retryable: fields.$retryable !== undefined && fields.$retryable !== null,
    code: typeof fields.code === 'string' ? fields.code : undefined,
  }
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
])

const TRANSIENT = new Set([
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'IDPCommunicationError',
])

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND'])

export function isThrottling(info: AwsErrorInfo): boolean {
  return THROTTLING.has(info.name) || info.httpStatus === 429
}

/** Throttling, 5xx and network errors: worth another try after a pause. */
export function isTransient(info: AwsErrorInfo): boolean {
  return (
    info.retryable ||
    isThrottling(info) ||
    TRANSIENT.has(info.name) ||
    (info.httpStatus !== undefined && info.httpStatus >= 500) ||
    (info.code !== undefined && NETWORK_CODES.has(info.code))
  )
}

const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation'])

export function isAccessDenied(info: AwsErrorInfo): boolean {
  return ACCESS_DENIED.has(info.name) || /not authorized to perform/i.test(info.message)
}

/** "ecr:CreateRepository" from an AccessDenied message, when AWS names the action. */
export function deniedAction(message: string): string | undefined {
  return /not authorized to perform:?\s+([a-z0-9-]+:[A-Za-z0-9]+)/i.exec(message)?.[1]
}
