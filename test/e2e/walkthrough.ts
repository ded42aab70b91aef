/**
 * The seed walkthrough (../shared/seed-walkthrough.txt) as CLI steps, with the JSON documents the
 * first issue spells out. Variants change one thing (a missing KMS permission, another service in
 * the trust policy, the rule's KMS settings) so the failure cases run the same path.
 */
import { randomBytes } from 'node:crypto';
import type { AwsCli } from '../support/aws-cli.js';
import { permissionsPolicy, replicationConfiguration, trustPolicy, type DocumentOptions } from '../support/replication-documents.js';

export interface ScenarioOptions extends DocumentOptions {
  /** The service the trust policy names (s3.amazonaws.com in the walkthrough). */
  trustedService?: string;
}

export interface Scenario {
  src: string;
  dest: string;
  srcKeyArn: string;
  destKeyArn: string;
  roleName: string;
  roleArn: string;
  replicationFile: string;
}

/** Steps 1–5 of the walkthrough with the CLI: keys, buckets, versioning, role, replication configuration. */
export async function setUpScenario(cli: AwsCli, opts: ScenarioOptions = {}, applyReplication = true): Promise<Scenario> {
  const tag = randomBytes(4).toString('hex');
  const src = `src-bkt-${tag}`;
  const dest = `dest-bkt-${tag}`;
  const roleName = `s3-crr-with-kms-role-${tag}`;

  const srcKeyArn = (await cli.run(['kms', 'create-key', '--region', 'us-east-1', '--profile', 'src_profile', '--query', 'KeyMetadata.Arn', '--output', 'text'])).stdout.trim();
  const destKeyArn = (await cli.run(['kms', 'create-key', '--region', 'us-east-2', '--profile', 'dest_profile', '--query', 'KeyMetadata.Arn', '--output', 'text'])).stdout.trim();

  await cli.run(['s3api', 'create-bucket', '--bucket', src, '--region', 'us-east-1', '--profile', 'src_profile']);
  await cli.run(['s3api', 'put-bucket-versioning', '--bucket', src, '--versioning-configuration', 'Status=Enabled', '--profile', 'src_profile']);
  await cli.run(['s3api', 'create-bucket', '--bucket', dest, '--region', 'us-east-2', '--create-bucket-configuration', 'LocationConstraint=us-east-2', '--profile', 'dest_profile']);
  await cli.run(['s3api', 'put-bucket-versioning', '--bucket', dest, '--versioning-configuration', 'Status=Enabled', '--profile', 'dest_profile']);

  const trustFile = cli.file(`trust-${tag}.json`, trustPolicy(opts.trustedService ?? 's3.amazonaws.com'));
  const permissionsFile = cli.file(`permissions-${tag}.json`, permissionsPolicy({ src, dest, srcKeyArn, destKeyArn }, opts));
  const roleArn = (
    await cli.run(['iam', 'create-role', '--role-name', roleName, '--assume-role-policy-document', `file://${trustFile}`, '--profile', 'src_profile', '--output', 'text', '--query', 'Role.Arn'])
  ).stdout.trim();
  await cli.run([
    'iam', 'put-role-policy', '--role-name', roleName, '--policy-document', `file://${permissionsFile}`,
    '--policy-name', 's3-crr-with-kms-role-permissions-policy', '--profile', 'src_profile',
  ]);

  const replicationFile = cli.file(`replication-${tag}.json`, replicationConfiguration({ dest, destKeyArn, roleArn }, opts));
  const scenario = { src, dest, srcKeyArn, destKeyArn, roleName, roleArn, replicationFile };
  if (applyReplication) {
    await cli.run(['s3api', 'put-bucket-replication', '--replication-configuration', `file://${replicationFile}`, '--bucket', src, '--profile', 'src_profile']);
  }
  return scenario;
}
