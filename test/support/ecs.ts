import { ECSClient } from "@aws-sdk/client-ecs";
import { sdkHttpAgents } from "../../services/cli/client.ts";

/** Dummy credentials: Berth reads the region from the SigV4 scope and does not check secrets. */
export const TEST_CREDENTIALS = {
  accessKeyId: "AKIDBERTHTEST0000000",
  secretAccessKey: "berth-test-secret-access-key",
} as const;

/**
 * The real AWS SDK ECS client pointed at a Berth endpoint. One attempt only: a test must see the
 * first answer, not a retried one. Its agents are the CLI's, which close an idle connection before
 * the server does, so that one attempt never meets a keep-alive reset.
 */
export function ecsClient(endpoint: string, region = "us-east-1", credentials: Credentials = TEST_CREDENTIALS): ECSClient {
  return new ECSClient({ endpoint, region, credentials, maxAttempts: 1, requestHandler: sdkHttpAgents() });
}

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
