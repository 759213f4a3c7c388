import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { PolicyDocument } from "./policy.ts";

/**
 * The credentials file (`--credentials FILE` or $BERTH_CREDENTIALS_FILE), JSON or YAML:
 *
 *   accessKeys:
 *     AKIAEXAMPLEADMIN0001:
 *       secretAccessKey: "…"
 *       principal: arn:aws:iam::000000000000:user/admin   # optional
 *       sessionToken: "…"                                 # optional (or sessionTokens: […])
 *       policies:                                         # IAM identity policies
 *         - Version: "2012-10-17"
 *           Statement:
 *             - { Effect: Allow, Action: "ecs:*", Resource: "*" }
 *
 * A key without policies may do nothing (IAM's implicit deny). The default principal is
 * `arn:aws:iam::<account>:user/<access key id>`.
 */

/** Characters an access key id may hold: it travels inside `Credential=<id>/<date>/…`. */
const ACCESS_KEY_ID = /^[A-Za-z0-9_+=.@-]{1,128}$/;

const KeyEntry = z
  .object({
    secretAccessKey: z.string().min(1),
    principal: z
      .string()
      .regex(/^arn:[^\s]+$/, "must be an ARN")
      .optional(),
    sessionToken: z.string().min(1).optional(),
    sessionTokens: z.array(z.string().min(1)).optional(),
    policies: z.array(PolicyDocument).optional(),
  })
  .strict();

export const CredentialsFile = z
  .object({
    accessKeys: z.record(z.string().regex(ACCESS_KEY_ID, "is not a valid access key id"), KeyEntry),
  })
  .strict();
export type CredentialsFile = z.infer<typeof CredentialsFile>;

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  sessionTokens: string[];
  principal: string;
  policies: PolicyDocument[];
}

export class CredentialsError extends Error {}

/** Validates a parsed credentials document; throws CredentialsError naming the bad member. */
export function credentialsFrom(doc: unknown, account: string): Map<string, AccessKey> {
  const r = CredentialsFile.safeParse(doc);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.map(String).join(".") || "(top level)";
    throw new CredentialsError(`credentials: ${where}: ${issue?.message ?? "invalid"}`);
  }
  const keys = new Map<string, AccessKey>();
  for (const [accessKeyId, e] of Object.entries(r.data.accessKeys)) {
    keys.set(accessKeyId, {
      accessKeyId,
      secretAccessKey: e.secretAccessKey,
      sessionTokens: [...(e.sessionToken ? [e.sessionToken] : []), ...(e.sessionTokens ?? [])],
      principal: e.principal ?? `arn:aws:iam::${account}:user/${accessKeyId}`,
      policies: e.policies ?? [],
    });
  }
  return keys;
}

/** Reads a JSON or YAML credentials file (YAML 1.2 reads JSON as it is). */
export async function loadCredentials(path: string, account: string): Promise<Map<string, AccessKey>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new CredentialsError(`cannot read credentials file ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new CredentialsError(`credentials file ${path} is neither JSON nor YAML: ${(err as Error).message}`);
  }
  return credentialsFrom(doc, account);
}
