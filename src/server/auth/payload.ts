/**
 * The request-body stream handlers read: decodes aws-chunked, and fails (destroys with a ServiceError)
 * when the body does not match x-amz-content-sha256, the chunk/trailer signatures, x-amz-checksum-*,
 * Content-MD5 or x-amz-decoded-content-length. Handlers must not commit anything before it ends cleanly.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ServiceError } from '../../common/errors.js';
import { badDigest, invalidRequest, malformedTrailer } from './auth-errors.js';
import { AwsChunkedDecoder } from './aws-chunked.js';
import { headerValue, type HeaderBag } from './canonical.js';
import { planPayload, type PayloadPlan } from './payload-plan.js';
import { createChecksum, isValidChecksumValue, type ChecksumAlgorithm, type IncrementalChecksum } from '../../crypto/checksums.js';
import type { VerifiedSignature } from './sigv4.js';
import { OffloadedDigests, type OffloadedAlgorithm } from '../../crypto/digest-thread.js';

export interface PayloadResult {
  decodedLength: number;
  /** Hex MD5 of the decoded payload (S3 ETags); undefined when the handler said it needs none. */
  md5?: string;
  checksum?: { algorithm: ChecksumAlgorithm; value: string /* base64 */ };
}

export interface PayloadVerifierOptions {
  /** Compute this checksum when the request names none (e.g. S3's default CRC64NVME). */
  defaultChecksum?: ChecksumAlgorithm;
  /**
   * Bodies declaring at least this many bytes are hashed (MD5, and SHA-256 when signed) on the digest
   * thread instead of the event loop. Undefined: never.
   */
  digestThreadMinBytes?: number;
}

/** Digests of the empty body, for requests that have none (GET, HEAD, DELETE): no hash objects built. */
const EMPTY_MD5 = createHash('md5').digest();
const EMPTY_SHA256_HEX = createHash('sha256').digest('hex');

class PayloadVerifier extends Transform {
  /** Created on the first body byte: most requests (GET, HEAD) have none. */
  private md5: Hash | undefined;
  private sha256: Hash | undefined;
  private readonly wantSha256: boolean;
  private readonly checksum: IncrementalChecksum | undefined;
  private readonly decoder: AwsChunkedDecoder | undefined;
  /** MD5 (and SHA-256) computed on the digest thread, for large bodies. */
  private offloaded: OffloadedDigests | undefined;
  /** The handler will not use the MD5 (see withoutMd5). */
  private md5Dropped = false;
  /** The digest thread asked this body to wait before sending more. */
  private offloadWait: Promise<void> | undefined;
  private length = 0;
  result: PayloadResult | undefined;

  constructor(
    private readonly plan: PayloadPlan,
    offload: boolean,
  ) {
    super();
    this.wantSha256 = plan.expectedSha256 !== undefined;
    if (offload) {
      const algorithms: OffloadedAlgorithm[] = this.wantSha256 ? ['md5', 'sha256'] : ['md5'];
      this.offloaded = new OffloadedDigests(algorithms);
    }
    if (plan.checksumAlgorithm !== undefined) this.checksum = createChecksum(plan.checksumAlgorithm);
    if (plan.chunked) {
      this.decoder = new AwsChunkedDecoder({ ...plan.chunked, onData: (b) => this.accept(b) });
    }
  }

  private accept(b: Buffer): void {
    if (b.length === 0) return;
    if (this.offloaded) {
      const wait = this.offloaded.update(b);
      if (wait) this.offloadWait = wait;
    } else {
      if (!this.md5Dropped) (this.md5 ??= createHash('md5')).update(b);
      if (this.wantSha256) (this.sha256 ??= createHash('sha256')).update(b);
    }
    this.checksum?.update(b);
    this.length += b.length;
    this.push(b);
  }

  /**
   * The handler will not use the MD5 (an SSE-KMS or SSE-C object's ETag is not one): stop computing it,
   * unless Content-MD5 asks for it to be checked. Bytes already hashed are simply forgotten. When the
   * thread hashes MD5 alone for this body, the body leaves it (a wait for it ends at once); with
   * SHA-256 as well it stays there for the SHA-256 only.
   */
  withoutMd5(): void {
    if (this.plan.contentMd5 !== undefined || this.md5Dropped) return;
    this.md5Dropped = true;
    this.md5 = undefined;
    if (this.offloaded && !this.wantSha256) {
      this.offloaded.discard();
      this.offloaded = undefined;
    } else {
      this.offloaded?.forget('md5');
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      if (this.decoder) this.decoder.write(chunk);
      else this.accept(chunk);
    } catch (e) {
      cb(e as Error);
      return;
    }
    const wait = this.offloadWait;
    if (!wait) return cb();
    // The digest thread is behind: take no more of the body until it catches up.
    this.offloadWait = undefined;
    wait.then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    let digests: Promise<Buffer[]> | undefined;
    try {
      this.decoder?.end();
      digests = this.offloaded?.digest();
    } catch (e) {
      cb(e as Error);
      return;
    }
    const done = (md5: Buffer | undefined, sha256Hex: string | undefined): void => {
      try {
        this.finish(md5, sha256Hex);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    };
    if (!digests) return done(this.md5?.digest(), this.sha256?.digest('hex'));
    digests.then(
      ([md5, sha256]) => done(this.length > 0 && !this.md5Dropped ? md5 : undefined, this.length > 0 ? sha256?.toString('hex') : undefined),
      (e: Error) => cb(e),
    );
  }

  override _destroy(error: Error | null, cb: (error: Error | null) => void): void {
    this.offloaded?.discard();
    cb(error);
  }

  private finish(md5Digest: Buffer | undefined, sha256Hex: string | undefined): void {
    const plan = this.plan;
    if (plan.expectedSha256 !== undefined) {
      const computed = sha256Hex ?? EMPTY_SHA256_HEX;
      if (computed !== plan.expectedSha256.toLowerCase()) {
        throw new ServiceError(
          'XAmzContentSHA256Mismatch',
          400,
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
          { ClientComputedContentSHA256: plan.expectedSha256, S3ComputedContentSHA256: computed },
        );
      }
    }
    let checksum: PayloadResult['checksum'];
    if (this.checksum) {
      const algorithm = plan.checksumAlgorithm!;
      const value = this.checksum.digest().toString('base64');
      checksum = { algorithm, value };
      let expected = plan.checksumHeaderValue;
      if (plan.checksumTrailer !== undefined) {
        expected = this.decoder?.trailers.get(plan.checksumTrailer);
        if (expected === undefined) throw malformedTrailer();
        if (!isValidChecksumValue(algorithm, expected)) {
          throw invalidRequest(`Value for ${plan.checksumTrailer} trailing header is invalid.`);
        }
      }
      if (expected !== undefined && expected !== value) {
        throw badDigest(`The ${algorithm} you specified did not match the calculated checksum.`);
      }
    }
    this.result = { decodedLength: this.length };
    if (!this.md5Dropped) {
      const md5 = md5Digest ?? EMPTY_MD5;
      if (plan.contentMd5 !== undefined && !md5.equals(plan.contentMd5)) {
        throw badDigest('The Content-MD5 you specified did not match what we received.');
      }
      this.result.md5 = md5.toString('hex');
    }
    if (checksum) this.result.checksum = checksum;
  }
}

/**
 * Build the verifying body stream for a request. Header-level problems (invalid Content-MD5 or
 * checksum values, conflicting checksum headers, missing x-amz-decoded-content-length) throw a
 * ServiceError synchronously, before any body is read.
 */
export function createPayloadVerifier(
  sig: VerifiedSignature | undefined,
  headers: HeaderBag,
  options: PayloadVerifierOptions = {},
): { stream: Transform; result: () => PayloadResult; withoutMd5: () => void } {
  const plan = planPayload(sig, headers, options.defaultChecksum);
  const declared = plan.chunked ? plan.chunked.decodedLength : Number(headerValue(headers, 'content-length') ?? 0);
  const offload = options.digestThreadMinBytes !== undefined && declared >= options.digestThreadMinBytes;
  const stream = new PayloadVerifier(plan, offload);
  return {
    stream,
    result: () => {
      if (!stream.result) throw new Error('payload result read before the body stream ended successfully');
      return stream.result;
    },
    withoutMd5: () => stream.withoutMd5(),
  };
}
