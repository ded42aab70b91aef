/** KMS clients per region (their own chunk: only the pages that use KMS load it). */
import { KMSClient } from '@aws-sdk/client-kms';
import { common, currentCredentials } from './aws';

const clients = new Map<string, KMSClient>();
let signedWith: unknown;

export function kms(region: string): KMSClient {
  if (signedWith !== currentCredentials()) {
    clients.clear();
    signedWith = currentCredentials();
  }
  let c = clients.get(region);
  if (!c) {
    c = new KMSClient({ ...common(), region });
    clients.set(region, c);
  }
  return c;
}
