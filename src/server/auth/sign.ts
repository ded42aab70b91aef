/** Client-side SigV4 header signing, for the server's own region-to-region calls and for tests. */
import { ALGORITHM, canonicalBytes, canonicalHeaderBlock, canonicalRequest, stringToSign } from './canonical.js';
import { canonicalQuery, canonicalUriOther, canonicalUriS3 } from './encoding.js';
import { EMPTY_SHA256, sha256Hex, signString, signingKey } from './signing-key.js';
import { formatAmzDate } from './time.js';

// Headers botocore and SDK v3 never sign: hop-by-hop or rewritten by proxies (reference §5.4).
const UNSIGNABLE = new Set([
  'authorization',
  'connection',
  'expect',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);

export interface SignableRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Buffer | string | 'UNSIGNED-PAYLOAD';
}

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * Sign a request with SigV4 header auth. Returns the headers to send: the caller's headers (names
 * lower-cased) plus host, x-amz-date, x-amz-content-sha256, x-amz-security-token and authorization.
 * An x-amz-content-sha256 the caller already set (e.g. a STREAMING-* token) is kept as the payload hash.
 */
export function signRequest(
  req: SignableRequest,
  creds: SigningCredentials,
  region: string,
  service: string,
  now: Date = new Date(),
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  const amzDate = formatAmzDate(now.getTime());
  const date = amzDate.slice(0, 8);
  headers['host'] = req.url.host;
  headers['x-amz-date'] = amzDate;
  if (creds.sessionToken !== undefined) headers['x-amz-security-token'] = creds.sessionToken;
  if (headers['x-amz-content-sha256'] === undefined) {
    const body = req.body;
    headers['x-amz-content-sha256'] =
      body === undefined ? EMPTY_SHA256 : body === 'UNSIGNED-PAYLOAD' ? body : sha256Hex(body);
  }
  const payloadHash = headers['x-amz-content-sha256'];
  delete headers['authorization'];

  const signed = Object.keys(headers)
    .filter((h) => !UNSIGNABLE.has(h))
    .sort();
  const s3 = service === 's3';
  const canonical = canonicalRequest({
    method: req.method.toUpperCase(),
    uri: s3 ? canonicalUriS3(req.url.pathname) : canonicalUriOther(req.url.pathname),
    query: canonicalQuery(req.url.search.replace(/^\?/, '')),
    headers: canonicalHeaderBlock(headers, signed),
    signedHeaders: signed,
    payloadHash,
  });
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = stringToSign(amzDate, scope, canonicalBytes(canonical));
  const signature = signString(signingKey(creds.secretAccessKey, date, region, service), toSign);
  headers['authorization'] =
    `${ALGORITHM} Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  return headers;
}
