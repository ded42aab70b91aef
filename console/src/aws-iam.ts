/** The IAM client (its own chunk). IAM is global: requests are signed for us-east-1, as AWS's are. */
import { IAMClient } from '@aws-sdk/client-iam';
import { common, currentCredentials } from './aws';

let client: IAMClient | undefined;
let signedWith: unknown;

export function iam(): IAMClient {
  if (!client || signedWith !== currentCredentials()) {
    client = new IAMClient({ ...common(), region: 'us-east-1' });
    signedWith = currentCredentials();
  }
  return client;
}
