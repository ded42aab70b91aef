/**
 * The one error base of Meridian. Every error a client can see carries the AWS error code, the HTTP
 * status and a message a person can act on; the protocol layer renders it once, at the edge.
 * Lower layers (storage, crypto, regions) throw plain Errors that handlers translate or that become
 * InternalError.
 */
export class ServiceError extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra elements for the error document, e.g. { BucketName: 'b' } or { Region: 'us-east-2' }. */
  readonly fields: Record<string, string>;
  /** Extra response headers, e.g. x-amz-bucket-region on a region redirect. */
  readonly headers: Record<string, string>;

  constructor(
    code: string,
    status: number,
    message: string,
    fields: Record<string, string> = {},
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ServiceError';
    this.code = code;
    this.status = status;
    this.fields = fields;
    this.headers = headers;
  }

  /** True for 5xx errors (the Query protocol's `Receiver` type, JSON's fault). */
  get isServerFault(): boolean {
    return this.status >= 500;
  }
}

export function isServiceError(e: unknown): e is ServiceError {
  return e instanceof ServiceError;
}

/**
 * A dependency of this request (in split mode the home region's process, which owns IAM, STS,
 * accounts and bucket names) cannot be reached right now: 503 ServiceUnavailable with Retry-After,
 * which AWS clients retry. Not a verdict on the request, so nothing may treat it as one (a
 * replication task meeting it stays PENDING; see replica-writer.ts failureFrom).
 */
export class DependencyUnavailableError extends ServiceError {
  constructor(
    message: string,
    /** What could not be reached, for logs (e.g. the home's URL). */
    readonly dependency: string,
    retryAfterSeconds = 1,
  ) {
    super('ServiceUnavailable', 503, message, {}, { 'retry-after': String(retryAfterSeconds) });
    this.name = 'DependencyUnavailableError';
  }
}

export function isDependencyUnavailable(e: unknown): e is DependencyUnavailableError {
  return e instanceof DependencyUnavailableError;
}
