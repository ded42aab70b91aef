/** ARN builders for IAM/STS principals. IAM is global: no region in these ARNs. */
export function rootArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:root`;
}

export function userArn(accountId: string, path: string, userName: string): string {
  return `arn:aws:iam::${accountId}:user${path}${userName}`;
}

export function roleArn(accountId: string, path: string, roleName: string): string {
  return `arn:aws:iam::${accountId}:role${path}${roleName}`;
}

/** The assumed-role session ARN omits the role path (reference §2.3). */
export function assumedRoleArn(accountId: string, roleName: string, sessionName: string): string {
  return `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`;
}

/** Parse arn:aws:iam::<acct>:role/<path/>name into its parts; undefined if it is not a role ARN. */
export function parseRoleArn(arn: string): { accountId: string; path: string; roleName: string } | undefined {
  const m = /^arn:aws:iam::(\d{12}):role(\/(?:[^/]+\/)*)?([\w+=,.@-]{1,64})$/.exec(arn);
  if (!m) return undefined;
  return { accountId: m[1]!, path: m[2] ?? '/', roleName: m[3]! };
}
