import { ECSClient } from "@aws-sdk/client-ecs";

/** Dummy credentials: Berth reads the region from the SigV4 scope and does not check secrets. */
export const TEST_CREDENTIALS = {
  accessKeyId: "AKIDBERTHTEST0000000",
  secretAccessKey: "berth-test-secret-access-key",
} as const;

/**
 * The real AWS SDK ECS client pointed at a Berth endpoint. One attempt only: a test must see the
 * first answer, not a retried one.
 */
export function ecsClient(endpoint: string, region = "us-east-1"): ECSClient {
  return new ECSClient({ endpoint, region, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
}
