import { clientException, type ContainerInput, eachContainer, type Rule } from "./request.ts";

/**
 * Rules about each container on its own. [seen] marks ECS's own words as real ECS returned them;
 * the rest state the documented rule (API model / developer guide) in words of the same style.
 */

const NAME = /^[A-Za-z0-9_-]+$/;
const NAME_MAX = 255;

/**
 * Image references (API model, ContainerDefinition.image): up to 255 of letters, digits and
 * `- _ : . / #` for tagged images; for `repo@sha256:<digest>` the 255 applies before the `@` and
 * the digest is exactly 64 hex digits.
 */
const IMAGE = /^[A-Za-z0-9_.:/#-]{1,255}$/;
const IMAGE_DIGEST = /^([A-Za-z0-9_.:/#-]{1,255})@sha256:[A-Fa-f0-9]{64}$/;

/** Docker 20.10+ reserves 6 MiB per container, so ECS refuses less (API model, memory member). */
export const MIN_CONTAINER_MEMORY_MIB = 6;

/** Health-check bounds in seconds / attempts (API model, HealthCheck). */
export const HEALTH_CHECK_BOUNDS = {
  interval: [5, 300],
  timeout: [2, 60],
  retries: [1, 10],
  startPeriod: [0, 300],
} as const;

/** Restart policy bounds (API model, ContainerRestartPolicy). */
const RESTART_PERIOD_MIN = 60;
const RESTART_PERIOD_MAX = 1800;
const MAX_IGNORED_EXIT_CODES = 50;
const MAX_ENVIRONMENT_FILES = 10;

const nameOf = (c: ContainerInput) => c.name ?? "";

/** [seen] */
export const containerNameRequired = eachContainer((c) =>
  c.name ? undefined : clientException("Container.name should not be null or empty."),
);

/** [seen] */
export const containerNameCharacters = eachContainer((c) =>
  NAME.test(nameOf(c)) ? undefined : clientException("Container.name contains invalid characters."),
);

export const containerNameLength = eachContainer((c) =>
  nameOf(c).length <= NAME_MAX ? undefined : clientException(`Container.name must be at most ${NAME_MAX} characters.`),
);

/** [seen] links, dependsOn and volumesFrom refer to containers by name. */
export const containerNamesUnique: Rule = ({ containers }) => {
  const names = containers.map(nameOf);
  return new Set(names).size === names.length
    ? undefined
    : clientException("Container names must be unique within a Task Definition.");
};

/** [seen] (with "The" and a lowercase "container" in one report; the Container.name form is kept). */
export const imageRequired = eachContainer((c) =>
  c.image ? undefined : clientException("Container.image should not be null or empty."),
);

export const imageFormat = eachContainer((c) => {
  const image = c.image ?? "";
  return IMAGE.test(image) || IMAGE_DIGEST.test(image)
    ? undefined
    : clientException(`Invalid 'image' setting for container '${nameOf(c)}'.`);
});

/** Every task needs an essential container: its exit is what ends the task. `essential` defaults to true. */
export const essentialContainer: Rule = ({ containers }) =>
  containers.some((c) => c.essential !== false)
    ? undefined
    : clientException("A task definition must have at least one essential container.");

/** [seen] Without task memory, every container must bring its own (non-zero) memory figure. */
export const containerMemoryRequired: Rule = eachContainer((c, v) =>
  typeof v.memory === "number" || c.memory || c.memoryReservation
    ? undefined
    : clientException(
        `Invalid setting for container '${nameOf(c)}'. At least one of 'memory' or 'memoryReservation' must be specified.`,
      ),
);

/** [seen] for the message; the 6 MiB floor is the documented Docker minimum. */
export const containerMemoryMinimum = eachContainer((c) =>
  c.memory === undefined || c.memory >= MIN_CONTAINER_MEMORY_MIB
    ? undefined
    : clientException(`Invalid 'memory' setting for container '${nameOf(c)}'.`),
);

export const containerMemoryReservationMinimum = eachContainer((c) =>
  c.memoryReservation === undefined || c.memoryReservation >= MIN_CONTAINER_MEMORY_MIB
    ? undefined
    : clientException(`Invalid 'memoryReservation' setting for container '${nameOf(c)}'.`),
);

/** The hard limit may equal the soft limit (the "greater than" in the docs was corrected to ≥). */
export const memoryNotBelowReservation = eachContainer((c) =>
  c.memory === undefined || c.memoryReservation === undefined || c.memory >= c.memoryReservation
    ? undefined
    : clientException(
        `Invalid 'memoryReservation' setting for container '${nameOf(c)}'. It cannot be greater than 'memory'.`,
      ),
);

/** Container cpu is any non-negative integer (values below 2 become 2 shares on the agent). */
export const containerCpu = eachContainer((c) =>
  c.cpu === undefined || c.cpu >= 0
    ? undefined
    : clientException(`Invalid 'cpu' setting for container '${nameOf(c)}'.`),
);

export const healthCheck = eachContainer((c) => {
  const hc = c.healthCheck;
  if (!hc) return undefined;
  if (hc.command.length === 0)
    return clientException(`Invalid 'healthCheck.command' setting for container '${nameOf(c)}'. It cannot be empty.`);
  for (const [member, [min, max]] of Object.entries(HEALTH_CHECK_BOUNDS)) {
    const value = hc[member as keyof typeof HEALTH_CHECK_BOUNDS];
    if (value !== undefined && (value < min || value > max))
      return clientException(
        `Invalid 'healthCheck.${member}' setting for container '${nameOf(c)}'. It must be between ${min} and ${max}.`,
      );
  }
  return undefined;
});

/**
 * [seen] awslogs needs its group and region (the message lists what is missing, region first).
 * The stream prefix is required only on Fargate and is checked with the Fargate rules.
 */
export const awslogsOptions = eachContainer((c) => {
  const log = c.logConfiguration;
  if (log?.logDriver !== "awslogs") return undefined;
  const missing = ["awslogs-region", "awslogs-group"].filter((k) => !log.options?.[k]);
  return missing.length === 0
    ? undefined
    : clientException(`Log driver awslogs requires options: ${missing.join(", ")}`);
});

export const restartPolicy = eachContainer((c) => {
  const rp = c.restartPolicy;
  if (!rp) return undefined;
  if ((rp.ignoredExitCodes?.length ?? 0) > MAX_IGNORED_EXIT_CODES)
    return clientException(
      `Invalid 'restartPolicy.ignoredExitCodes' setting for container '${nameOf(c)}'. At most ${MAX_IGNORED_EXIT_CODES} exit codes are allowed.`,
    );
  const period = rp.restartAttemptPeriod;
  if (period !== undefined && (period < RESTART_PERIOD_MIN || period > RESTART_PERIOD_MAX))
    return clientException(
      `Invalid 'restartPolicy.restartAttemptPeriod' setting for container '${nameOf(c)}'. It must be between ${RESTART_PERIOD_MIN} and ${RESTART_PERIOD_MAX}.`,
    );
  return undefined;
});

export const environmentFiles = eachContainer((c) =>
  (c.environmentFiles?.length ?? 0) <= MAX_ENVIRONMENT_FILES
    ? undefined
    : clientException(
        `Invalid 'environmentFiles' setting for container '${nameOf(c)}'. At most ${MAX_ENVIRONMENT_FILES} files are allowed.`,
      ),
);

/** Docker refuses a soft limit above the hard limit when it creates the container; refuse it now. */
export const ulimits = eachContainer((c) => {
  const bad = c.ulimits?.find((u) => u.softLimit > u.hardLimit);
  return bad
    ? clientException(
        `Invalid ulimit '${bad.name}' for container '${nameOf(c)}'. softLimit cannot be greater than hardLimit.`,
      )
    : undefined;
});
