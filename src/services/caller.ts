import type { Principal } from '../policy/types.js';

/** Who made a request and how: everything authorization and the services need about the caller. */
export interface Caller {
  principal: Principal;
  /** The access key that signed the request (absent for anonymous requests and internal service calls). */
  accessKeyId?: string;
  /** Inline session policy of an assumed-role session (JSON text). */
  sessionPolicy?: string;
  /** Managed session policies (PolicyArns) of an assumed-role session. */
  sessionPolicyArns?: string[];
  /** How temporary credentials were issued (absent for long-term keys). */
  credentialSource?: 'AssumeRole' | 'GetSessionToken';
  /** The request id, so decision logs can be matched with requests. */
  requestId?: string;
  /** Credentials' issue time for temporary credentials (aws:TokenIssueTime). */
  tokenIssueTime?: number;
  /** The request arrived over TLS (aws:SecureTransport). */
  secureTransport: boolean;
  /** Caller's IP address (aws:SourceIp); undefined for internal calls. */
  sourceIp?: string;
  /** True when the request came from a loopback address. */
  loopback: boolean;
  /** 'REST-HEADER' | 'REST-QUERY-STRING' (s3:authType); undefined for anonymous or internal calls. */
  authType?: 'REST-HEADER' | 'REST-QUERY-STRING';
  /**
   * Set when an AWS service acts with this caller's credentials (forward access), e.g. S3 calling
   * KMS for the requester: becomes kms:ViaService and aws:ViaAWSService.
   */
  viaService?: string;
}

/** A copy of the caller as seen by another service acting on its behalf (S3 → KMS). */
export function viaService(caller: Caller, service: string): Caller {
  // Object.assign, not a spread followed by a key: V8 takes a slow path for that literal, per request.
  return Object.assign({}, caller, { viaService: service });
}
