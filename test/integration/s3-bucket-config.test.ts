/**
 * Bucket CORS (configuration, OPTIONS preflight, headers on actual requests), ACLs (canned,
 * grant headers, AccessControlPolicy documents) and Object Ownership (BucketOwnerEnforced by
 * default, disabling ACLs) through the SDK v3 and raw HTTP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCorsCommand,
  DeleteBucketOwnershipControlsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketOwnershipControlsCommand,
  GetObjectAclCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketOwnershipControlsCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { bucketName, rejects } from './helpers.js';
import { signedFetch } from './signed-fetch.js';

let m: MeridianProcess;
let s3: S3Client;

before(async () => {
  m = await startMeridianProcess();
  s3 = s3Client(m);
});
after(async () => {
  await m?.stop();
});

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

describe('CORS', () => {
  test('configuration round-trip, preflight answers, headers on actual requests, delete', async () => {
    const b = bucketName('cors');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const none = await rejects(s3.send(new GetBucketCorsCommand({ Bucket: b })), 'NoSuchCORSConfiguration', 404);
    assert.equal(none.message, 'The CORS configuration does not exist');
    const preflightNoConfig = await signedFetch(m, 'OPTIONS', `/${b}/k`, { anonymous: true, headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } });
    assert.equal(preflightNoConfig.status, 403);
    assert.match(preflightNoConfig.text, /CORS is not enabled for this bucket/);

    const CORSRules = [
      { ID: 'app', AllowedOrigins: ['https://*.example'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['content-type', 'x-amz-*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 600 },
      { AllowedOrigins: ['*'], AllowedMethods: ['GET'] },
    ];
    await s3.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules } }));
    const got = await s3.send(new GetBucketCorsCommand({ Bucket: b }));
    assert.deepEqual(got.CORSRules, CORSRules);

    const ok = await signedFetch(m, 'OPTIONS', `/${b}/any/key`, {
      anonymous: true,
      headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'Content-Type, X-Amz-Date' },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(ok.headers['access-control-allow-methods'], 'GET, PUT');
    assert.equal(ok.headers['access-control-allow-headers'], 'Content-Type, X-Amz-Date');
    assert.equal(ok.headers['access-control-expose-headers'], 'ETag');
    assert.equal(ok.headers['access-control-max-age'], '600');
    assert.equal(ok.headers['access-control-allow-credentials'], 'true');

    const anyOrigin = await signedFetch(m, 'OPTIONS', `/${b}/k`, { anonymous: true, headers: { origin: 'https://elsewhere.test', 'access-control-request-method': 'GET' } });
    assert.equal(anyOrigin.status, 200);
    assert.equal(anyOrigin.headers['access-control-allow-origin'], '*');

    const denied = await signedFetch(m, 'OPTIONS', `/${b}/k`, { anonymous: true, headers: { origin: 'https://elsewhere.test', 'access-control-request-method': 'DELETE' } });
    assert.equal(denied.status, 403);
    assert.match(denied.text, /<Code>AccessForbidden<\/Code><Message>CORSResponse: This CORS request is not allowed/);
    const noOrigin = await signedFetch(m, 'OPTIONS', `/${b}/k`, { anonymous: true, headers: { 'access-control-request-method': 'GET' } });
    assert.equal(noOrigin.status, 400);

    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'page.html', Body: '<p>hi</p>' }));
    const actual = await signedFetch(m, 'GET', `/${b}/page.html`, { headers: { origin: 'https://app.example' } });
    assert.equal(actual.status, 200);
    assert.equal(actual.headers['access-control-allow-origin'], 'https://app.example');

    await rejects(s3.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }] } })), 'InvalidRequest', 400);
    await rejects(s3.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://*.*.example'], AllowedMethods: ['GET'] }] } })), 'InvalidRequest', 400);
    const noOrigins = await signedFetch(m, 'PUT', `/${b}`, { query: 'cors', body: '<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>', contentMd5: true });
    assert.equal(noOrigins.status, 400);
    assert.match(noOrigins.text, /<Code>MalformedXML<\/Code>/);
    assert.deepEqual((await s3.send(new GetBucketCorsCommand({ Bucket: b }))).CORSRules, CORSRules, 'rejected configurations changed nothing');

    assert.equal((await s3.send(new DeleteBucketCorsCommand({ Bucket: b }))).$metadata.httpStatusCode, 204);
    await rejects(s3.send(new GetBucketCorsCommand({ Bucket: b })), 'NoSuchCORSConfiguration', 404);
  });
});

describe('Object Ownership and ACLs', () => {
  test('a new bucket is BucketOwnerEnforced: ACLs read as owner-only, and only owner-only ACLs are accepted', async () => {
    const b = bucketName('enforced');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const controls = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b }));
    assert.deepEqual(controls.OwnershipControls?.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    const acl = await s3.send(new GetBucketAclCommand({ Bucket: b }));
    assert.match(acl.Owner!.ID!, /^[0-9a-f]{64}$/);
    assert.deepEqual(acl.Grants, [{ Grantee: { ID: acl.Owner!.ID, Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' }]);

    const e = await rejects(s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' })), 'AccessControlListNotSupported', 400);
    assert.equal(e.message, 'The bucket does not allow ACLs');
    await s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'private' }));
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ACL: 'public-read' })), 'AccessControlListNotSupported', 400);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ACL: 'bucket-owner-full-control' }));
    const objAcl = await s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' }));
    assert.deepEqual(objAcl.Grants, acl.Grants);
    await rejects(s3.send(new CreateBucketCommand({ Bucket: bucketName('acl-enforced'), ACL: 'public-read' })), 'InvalidBucketAclWithObjectOwnership', 400);
  });

  test('ObjectWriter buckets keep canned, header-granted and document ACLs for buckets, objects and multipart uploads', async () => {
    const b = bucketName('writer');
    // Block Public Access is on for a new bucket, so a public ACL cannot come with it.
    await rejects(s3.send(new CreateBucketCommand({ Bucket: b, ObjectOwnership: 'ObjectWriter', ACL: 'public-read' })), 'InvalidBucketAclWithBlockPublicAccessError', 400);
    await s3.send(new CreateBucketCommand({ Bucket: b, ObjectOwnership: 'ObjectWriter' }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    await s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' }));
    const bucketAcl = await s3.send(new GetBucketAclCommand({ Bucket: b }));
    assert.deepEqual(bucketAcl.Grants?.map((g) => [g.Grantee?.Type, g.Grantee?.URI ?? g.Grantee?.ID, g.Permission]), [
      ['CanonicalUser', bucketAcl.Owner!.ID, 'FULL_CONTROL'],
      ['Group', ALL_USERS, 'READ'],
    ]);

    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'shared', Body: 's', ACL: 'authenticated-read' }));
    const objAcl = await s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'shared' }));
    assert.deepEqual(objAcl.Grants?.map((g) => g.Grantee?.URI ?? g.Permission), ['FULL_CONTROL', AUTHENTICATED]);

    await s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'shared', GrantRead: `uri="${ALL_USERS}"`, GrantFullControl: `id="${objAcl.Owner!.ID}"` }));
    const granted = await s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'shared' }));
    assert.deepEqual(granted.Grants?.map((g) => g.Permission).sort(), ['FULL_CONTROL', 'READ']);

    await s3.send(
      new PutObjectAclCommand({
        Bucket: b,
        Key: 'shared',
        AccessControlPolicy: { Owner: { ID: objAcl.Owner!.ID }, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: objAcl.Owner!.ID }, Permission: 'FULL_CONTROL' }] },
      }),
    );
    assert.equal((await s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'shared' }))).Grants?.length, 1);

    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ACL: 'public-read' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId, PartNumber: 1, Body: 'only part' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    const mpAcl = await s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'mp' }));
    assert.ok(mpAcl.Grants?.some((g) => g.Grantee?.URI === ALL_USERS && g.Permission === 'READ'));

    await rejects(s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'bucket-owner-read' as 'private' })), 'InvalidArgument', 400);
    await rejects(s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'private', GrantRead: `uri="${ALL_USERS}"` })), 'InvalidRequest', 400);
  });

  test('ownership controls: enforcing needs an owner-only bucket ACL; deleting leaves none', async () => {
    const b = bucketName('ownership');
    await s3.send(new CreateBucketCommand({ Bucket: b, ObjectOwnership: 'BucketOwnerPreferred' }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    await s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' }));
    await rejects(
      s3.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } })),
      'InvalidBucketAclWithObjectOwnership',
      400,
    );
    await s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'private' }));
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
    assert.equal((await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b }))).OwnershipControls?.Rules?.[0]?.ObjectOwnership, 'BucketOwnerEnforced');
    assert.equal((await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: b }))).$metadata.httpStatusCode, 204);
    await rejects(s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b })), 'OwnershipControlsNotFoundError', 404);
    const bad = await signedFetch(m, 'PUT', `/${b}`, {
      query: 'ownershipControls',
      body: '<OwnershipControls><Rule><ObjectOwnership>Everyone</ObjectOwnership></Rule></OwnershipControls>',
      contentMd5: true,
    });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /<Code>MalformedXML<\/Code>/);
  });
});
