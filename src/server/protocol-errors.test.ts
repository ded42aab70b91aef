/**
 * A dependency that cannot be reached, as each protocol answers it: S3 (REST-XML) and IAM/STS
 * (Query) with 503 ServiceUnavailable, KMS (JSON) with its modelled 503 fault
 * DependencyTimeoutException; each with Retry-After and the message naming what is away.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DependencyUnavailableError, ServiceError } from '../common/errors.js';
import { jsonError } from '../services/protocol/aws-json.js';
import { queryError } from '../services/protocol/aws-query.js';
import { restXmlError } from '../services/protocol/rest-xml.js';
import { IAM_XMLNS } from '../services/iam/handlers.js';
import { unavailableErrorFor } from './protocol-errors.js';

const away = () => new DependencyUnavailableError("The home region us-east-1's process (IAM, STS, accounts, bucket names) at http://10.0.0.1:9000 is not reachable (connect ECONNREFUSED). Please retry later.", 'http://10.0.0.1:9000');

describe('an unreachable dependency on the wire', () => {
  it('S3: 503 ServiceUnavailable in the Error document, with Retry-After', () => {
    const r = restXmlError(unavailableErrorFor('restXml', away()), 'GET', 'req-1', 'host-1', '/b/k');
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '1');
    assert.match(String(r.body), /<Error><Code>ServiceUnavailable<\/Code><Message>The home region us-east-1&apos;s process .* is not reachable/);
    assert.match(String(r.body), /<RequestId>req-1<\/RequestId>/);
    // HEAD has no body: the status and header say it.
    const head = restXmlError(unavailableErrorFor('restXml', away()), 'HEAD', 'req-1', 'host-1');
    assert.equal(head.status, 503);
    assert.equal(head.body, undefined);
  });

  it('IAM and STS: 503 ServiceUnavailable, a Receiver fault', () => {
    const r = queryError(unavailableErrorFor('query', away()), IAM_XMLNS, 'req-2');
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '1');
    assert.match(String(r.body), /<Error><Type>Receiver<\/Type><Code>ServiceUnavailable<\/Code><Message>The home region us-east-1/);
  });

  it('KMS: 503 DependencyTimeoutException', () => {
    const r = jsonError(unavailableErrorFor('json', away()), 'req-3');
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '1');
    const body = JSON.parse(String(r.body)) as { __type: string; message: string };
    assert.equal(body.__type, 'DependencyTimeoutException');
    assert.match(body.message, /home region us-east-1.*not reachable/);
  });

  it('other errors pass unchanged, a plain 503 of S3 included', () => {
    const denied = new ServiceError('AccessDenied', 403, 'Access Denied');
    assert.equal(unavailableErrorFor('json', denied), denied);
    const full = new ServiceError('ServiceUnavailable', 503, 'The server is out of storage space for this request. Please retry later.');
    assert.equal(unavailableErrorFor('json', full), full);
  });
});
