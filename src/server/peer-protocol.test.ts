import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { derivePeerKeys, PeerAuthError, PeerVerifier, sha256Hex, signPeerRequest, signPeerResponse, verifyPeerResponse, WINDOW_MS } from './peer-protocol.js';

const keys = derivePeerKeys('a shared secret of some length');
const request = { method: 'POST', path: '/_meridian/internal/global', query: '', content: sha256Hex('body') };

describe('peer protocol', () => {
  it('a signed request verifies once; the same request again is a replay', () => {
    const v = new PeerVerifier(keys, Date.now() - 1000);
    const { headers } = signPeerRequest(keys, request);
    assert.equal(v.verify(request.method, request.path, request.query, headers).content, request.content);
    assert.throws(() => v.verify(request.method, request.path, request.query, headers), (e) => e instanceof PeerAuthError && /replayed/.test(e.message));
  });

  it('a change to the method, path, query or body digest, or another secret, fails', () => {
    const { headers } = signPeerRequest(keys, request);
    const v = new PeerVerifier(keys, Date.now() - 1000);
    assert.throws(() => v.verify('PUT', request.path, '', headers), PeerAuthError);
    assert.throws(() => v.verify('POST', '/_meridian/internal/bucket', '', headers), PeerAuthError);
    assert.throws(() => v.verify('POST', request.path, 'x=1', headers), PeerAuthError);
    assert.throws(() => v.verify('POST', request.path, '', { ...headers, 'x-meridian-peer-content-sha256': sha256Hex('other') }), PeerAuthError);
    assert.throws(() => new PeerVerifier(derivePeerKeys('another secret entirely!'), 0).verify('POST', request.path, '', headers), PeerAuthError);
  });

  it('a request dated outside the window, or before the process started, is refused', () => {
    const now = Date.now();
    const old = signPeerRequest(keys, request, now - WINDOW_MS - 5000).headers;
    assert.throws(() => new PeerVerifier(keys, 0).verify('POST', request.path, '', old), /clock/);
    const beforeStart = signPeerRequest(keys, request, now - 10_000).headers;
    assert.throws(() => new PeerVerifier(keys, now).verify('POST', request.path, '', beforeStart), (e) => e instanceof PeerAuthError && e.retryable && /before this process started/.test(e.message));
  });

  it('the forwarded client is part of what is signed', () => {
    const { headers } = signPeerRequest(keys, { ...request, client: { address: '192.0.2.7', secure: true } });
    const v = new PeerVerifier(keys, 0);
    assert.throws(() => v.verify('POST', request.path, '', { ...headers, 'x-meridian-peer-client': 'addr=192.0.2.8;proto=https' }), PeerAuthError);
    assert.deepEqual(v.verify('POST', request.path, '', headers).client, { address: '192.0.2.7', secure: true });
  });

  it('an answer verifies only for its own request, with its status and signed headers unchanged', () => {
    const a = signPeerRequest(keys, request);
    const b = signPeerRequest(keys, request);
    const signed = signPeerResponse(keys, a.signature, 200, { 'content-type': 'application/json', etag: '"x"' }, sha256Hex('{}'));
    assert.equal(verifyPeerResponse(keys, a.signature, 200, signed).headers.etag, '"x"');
    assert.throws(() => verifyPeerResponse(keys, b.signature, 200, signed), PeerAuthError);
    assert.throws(() => verifyPeerResponse(keys, a.signature, 404, signed), PeerAuthError);
    assert.throws(() => verifyPeerResponse(keys, a.signature, 200, { ...signed, etag: '"y"' }), PeerAuthError);
    // A header the relay added is not signed, so it is not passed on.
    assert.equal(verifyPeerResponse(keys, a.signature, 200, { ...signed, 'x-injected': '1' }).headers['x-injected'], undefined);
    // A request's MAC key never signs a response.
    assert.notDeepEqual(keys.requestMac, keys.responseMac);
  });
});
