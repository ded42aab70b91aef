/** Public API of the SigV4 authentication module. */
export { readCredentialScope } from './auth-params.js';
export type { CredentialScope, SigningRequest } from './auth-params.js';
export { verifySignature } from './sigv4.js';
export type { CredentialLookup, VerifiedSignature, VerifyOptions } from './sigv4.js';
export { createPayloadVerifier } from './payload.js';
export type { PayloadResult, PayloadVerifierOptions } from './payload.js';
export { signRequest } from './sign.js';
export type { SignableRequest, SigningCredentials } from './sign.js';

