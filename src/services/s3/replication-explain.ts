/**
 * Runs `meridian replication explain` for one version: the same replication stages the worker
 * runs, through the same transport, authorizer and KMS paths, but as a dry run (nothing is
 * written), recording every authorization decision made on the way.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Clock } from '../../common/clock.js';
import type { Decision, EvaluationInput } from '../../policy/types.js';
import { checkStep, type DestinationExplanation, type ReplicationExplanation } from '../../replication/explain.js';
import { ReplicationFailure } from '../../replication/failure.js';
import type { ReplicationTransport } from '../../replication/ports.js';
import { replicateTask } from '../../replication/replicate-task.js';
import { RoleSessionCache } from '../../replication/role-sessions.js';
import { candidateEncryption, explainRuleMatching, type ReplicationCandidate } from '../../replication/rules.js';
import type { OutboxTask } from '../../storage/types.js';
import type { Caller } from '../caller.js';
import type { S3Context } from './s3-context.js';

const recording = new AsyncLocalStorage<{ input: EvaluationInput; decision: Decision }[]>();

/** Install as (part of) the Authorizer's listener: decisions made inside an explanation are recorded. */
export function recordDecision(_caller: Caller, input: EvaluationInput, decision: Decision): void {
  recording.getStore()?.push({ input, decision });
}

/** Decisions a peer process made for a dry run it served (split mode): recorded as if made here. */
export function recordRemoteDecisions(decisions: { input: EvaluationInput; decision: Decision }[]): void {
  recording.getStore()?.push(...decisions);
}

/** Run `fn`, returning the decisions it made alongside its outcome (the receiving side of a remote dry run). */
export async function withRecordedDecisions<T>(fn: () => Promise<T>): Promise<{ decisions: { input: EvaluationInput; decision: Decision }[]; result?: T; error?: unknown }> {
  const decisions: { input: EvaluationInput; decision: Decision }[] = [];
  try {
    const result = await recording.run(decisions, fn);
    return { decisions, result };
  } catch (error) {
    return { decisions, error };
  }
}

export interface ExplainDeps {
  /** The source bucket's region. */
  source: S3Context;
  transport: ReplicationTransport;
  clock: Clock;
}

async function dryRun(deps: ExplainDeps, task: OutboxTask): Promise<DestinationExplanation> {
  const recorded: { input: EvaluationInput; decision: Decision }[] = [];
  const d: DestinationExplanation = { destinationBucket: task.destinationBucket, ruleId: task.ruleId, checks: [], outcome: 'replicates' };
  try {
    await recording.run(recorded, () => replicateTask(task, deps.transport, new RoleSessionCache(deps.clock), { dryRun: true }));
  } catch (e) {
    if (e instanceof ReplicationFailure) {
      d.outcome = e.reason;
      d.message = e.message;
    } else {
      d.outcome = 'PENDING';
      d.message = `transient: ${e instanceof Error ? e.message : String(e)} (replication keeps retrying)`;
    }
  }
  d.checks = recorded.map((r) => checkStep(r.input, r.decision));
  return d;
}

export async function explainReplication(deps: ExplainDeps, bucket: string, key: string, versionId?: string): Promise<ReplicationExplanation> {
  const e: ReplicationExplanation = { bucket, key, rules: [], pending: [], destinations: [], summary: [] };
  if (versionId !== undefined) e.versionId = versionId;
  const v = await deps.source.meta.getObjectVersion(bucket, key, versionId);
  if (!v) {
    e.summary.push(versionId ? `Version ${versionId} of ${bucket}/${key} does not exist.` : `${bucket}/${key} does not exist.`);
    return e;
  }
  e.versionId = v.versionId;
  const ver: NonNullable<ReplicationExplanation['version']> = { isDeleteMarker: v.isDeleteMarker, size: v.size };
  if (v.encryption) ver.encryption = candidateEncryption(v.encryption)!;
  if (v.encryption?.kmsKeyArn) ver.kmsKeyArn = v.encryption.kmsKeyArn;
  if (v.tags) ver.tags = v.tags;
  if (v.replicationStatus) ver.replicationStatus = v.replicationStatus;
  if (v.replicationDetail) ver.detail = v.replicationDetail;
  e.version = ver;

  const tasks = (await deps.source.meta.listOutboxTasks({ bucket, limit: 100_000 })).filter((t) => t.key === key && t.versionId === v.versionId);
  e.pending = tasks.map((t) => {
    const p: ReplicationExplanation['pending'][number] = { destinationBucket: t.destinationBucket, operation: t.operation, attempts: t.attempts, nextAttemptAt: new Date(Math.max(t.notBefore, deps.clock.now())).toISOString() };
    if (t.lastError !== undefined) p.lastError = t.lastError;
    return p;
  });

  const config = await deps.transport.replicationConfig(bucket);
  if (!config) {
    e.summary.push(`Bucket ${bucket} has no replication configuration.`);
    return e;
  }
  e.role = config.role;
  const candidate: ReplicationCandidate = { key, isDeleteMarker: v.isDeleteMarker, isReplica: v.replicationStatus === 'REPLICA', storageClass: v.storageClass };
  if (v.tags) candidate.tags = v.tags;
  if (v.encryption) candidate.encryption = candidateEncryption(v.encryption);
  e.rules = explainRuleMatching(config, candidate);
  const selected = e.rules.filter((r) => r.selected);
  if (selected.length === 0) {
    e.summary.push(candidate.isReplica ? 'This version is a replica; live replication does not replicate it again.' : 'No enabled rule replicates this version (see Rules).');
    return e;
  }

  if (candidate.encryption === 'SSE-C') {
    e.summary.push(
      'The version is SSE-C: it replicates as stored (its ciphertext and its data key as the customer key wrapped it, never decrypted), so no KMS call and no customer key are involved; ' +
        'the replica is read with the same customer key, and a destination that blocks SSE-C refuses it (DstPutObjectNotPermitted).',
    );
  }
  for (const r of selected) {
    const task: OutboxTask = {
      id: 0,
      bucket,
      key,
      versionId: v.versionId,
      operation: v.isDeleteMarker ? 'delete-marker' : 'put',
      destinationBucket: r.destinationBucket,
      ruleId: r.ruleId,
      attempts: 0,
      notBefore: 0,
      createdAt: deps.clock.now(),
    };
    const d = await dryRun(deps, task);
    e.destinations.push(d);
    const recordedState = v.replicationDetail?.[r.destinationBucket];
    if (d.outcome === 'replicates') {
      if (recordedState?.status === 'FAILED') {
        e.summary.push(`Replication to ${r.destinationBucket} FAILED earlier (${recordedState.failureReason}), but every check passes now: re-replicate it with \`meridian replication batch --bucket ${bucket} --status FAILED\`, or upload the object again.`);
      } else if (!recordedState) {
        e.summary.push(`Rule ${r.ruleId} would replicate this version to ${r.destinationBucket}, but it was written before the rule applied: live replication does not pick up existing versions; use \`meridian replication batch --bucket ${bucket}\`.`);
      } else {
        e.summary.push(`Replication to ${r.destinationBucket} is ${recordedState.status}; every check passes.`);
      }
    } else {
      const denied = d.checks.find((c) => c.outcome !== 'Allow');
      e.summary.push(`Replication to ${r.destinationBucket} ${d.outcome === 'PENDING' ? 'stays PENDING' : `fails with ${d.outcome}`}: ${denied?.advice ?? d.message ?? ''}`.trim());
    }
  }
  return e;
}
