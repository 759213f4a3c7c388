import type { Logger } from "pino";
import { type DockerPort, isDockerError, type RegistryCredentials } from "./docker/port.ts";

/**
 * Image pull behaviour, as ECS's agent (ECS_IMAGE_PULL_BEHAVIOR):
 *   default        pull; if the pull fails, run the cached image when there is one
 *   always         pull; a failed pull fails the container
 *   once           pull only if no earlier pull succeeded (here: only if the image is absent)
 *   prefer-cached  pull only when the image is absent
 */
export type ImagePullBehavior = "default" | "always" | "once" | "prefer-cached";

export interface PullOutcome {
  pullStartedAt?: number;
  pullStoppedAt?: number;
  /** ECS's container reason when no usable image is left: "CannotPullContainerError: …". */
  error?: string;
}

export async function ensureImage(
  docker: DockerPort,
  image: string,
  behavior: ImagePullBehavior,
  clock: () => number,
  log: Logger,
  signal?: AbortSignal,
  /** The registry's credentials, when the task or the agent has some for it. */
  auth?: RegistryCredentials,
): Promise<PullOutcome> {
  const cached = async () => {
    try {
      await docker.inspectImage(image, { signal });
      return true;
    } catch (err) {
      if (isDockerError(err, "not-found")) return false;
      throw err;
    }
  };
  if ((behavior === "once" || behavior === "prefer-cached") && (await cached())) return {};
  const pullStartedAt = clock();
  try {
    await docker.pullImage(image, { signal, ...(auth ? { auth } : {}) });
    return { pullStartedAt, pullStoppedAt: clock() };
  } catch (err) {
    // An engine that cannot be reached is not a pull failure: the caller retries the whole start.
    if (isDockerError(err, "retriable") && !/timed out/.test((err as Error).message)) throw err;
    const pullStoppedAt = clock();
    const text = (err as Error).message;
    if (behavior === "default" && (await cached())) {
      log.info({ image, err: text }, "image pull failed; using the cached image");
      return { pullStartedAt, pullStoppedAt };
    }
    return { pullStartedAt, pullStoppedAt, error: `CannotPullContainerError: ${text}` };
  }
}

/** ECS's imageDigest: the repository digest when the image came from a registry, else the image id. */
export async function imageDigest(
  docker: DockerPort,
  imageId: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    const img = await docker.inspectImage(imageId, { signal });
    const repoDigest = img.repoDigests[0];
    return repoDigest ? repoDigest.slice(repoDigest.indexOf("@") + 1) : img.id;
  } catch (err) {
    if (isDockerError(err, "not-found")) return undefined;
    throw err;
  }
}
