import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type ECSClient,
  paginateListTaskDefinitions,
  RegisterTaskDefinitionCommand,
  type Service,
  type TaskDefinition,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { parse as parseYaml } from "yaml";
import { validateRegisterTaskDefinition } from "../../../machines/taskdef/taskdef.validate.ts";
import { type CommandSpec, UsageError } from "../args.ts";
import { connectionHelp, connectionOptions, ecsClient, printJson, type Target, target } from "../client.ts";
import { projectName, type Translation, translate } from "../compose/translate.ts";
import { ComposeError } from "../compose/values.ts";
import { progressFor, watch } from "../progress.ts";
import { definitionOf } from "../table.ts";
import { listTasks, printTasks } from "./ps.ts";
import { printServices } from "./services.ts";
import { seenEvents, timeoutHelp, timeoutMs, timeoutOption, watchDeployment } from "./wait.ts";

/** Where compose looks when no -f is given, in its order. */
const DEFAULT_FILES = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];

interface Loaded {
  file: string;
  document: unknown;
  project: string;
}

function findFile(flag: string | undefined): string | undefined {
  if (flag !== undefined) return resolve(flag);
  return DEFAULT_FILES.map((f) => resolve(f)).find((f) => existsSync(f));
}

function load(file: string, projectFlag: string | undefined): Loaded {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ComposeError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text, { merge: true });
  } catch (err) {
    throw new ComposeError(`${file} is not valid YAML: ${(err as Error).message}`);
  }
  const project = projectName({ flag: projectFlag, env: process.env, document, dirName: basename(dirname(file)) });
  return { file, document, project };
}

/**
 * The file's translation, checked by the rules RegisterTaskDefinition applies: a value compose
 * accepts and ECS does not (a health check every 2 s, 11 services) fails here, for `config` as for
 * `up`, before anything is asked of the API.
 */
function translateFile(l: Loaded): Translation {
  const t = translate({ document: l.document, project: l.project, baseDir: dirname(l.file), env: process.env });
  for (const w of t.warnings) console.error(`berth compose: warning: ${w}`);
  const checked = validateRegisterTaskDefinition(t.taskDefinition);
  if (!checked.ok)
    throw new ComposeError(`${l.file} makes a task definition ECS refuses: ${checked.rejection.message}`);
  return t;
}

async function describeService(ecs: ECSClient, t: Target, name: string): Promise<Service | undefined> {
  const out = await ecs.send(new DescribeServicesCommand({ cluster: t.cluster, services: [name] }));
  return out.services?.[0];
}

/** The tag a registered revision carries: a digest of what the compose file made of it. */
const DIGEST_TAG = "berth:compose-digest";

/** A digest of the translated task definition: equal digests, the same revision. */
function digestOf(taskDefinition: unknown): string {
  return createHash("sha256").update(JSON.stringify(taskDefinition)).digest("hex").slice(0, 32);
}

/**
 * Whether the running service is already what the file says, as `docker compose up` leaves an
 * unchanged project alone: its revision was registered from the same translation (the digest tag)
 * and its desired count and deployment bounds are the file's.
 */
async function upToDate(
  ecs: ECSClient,
  existing: Service,
  tr: Translation,
  digest: string,
): Promise<TaskDefinition | undefined> {
  if (tr.service.desiredCount !== undefined && existing.desiredCount !== tr.service.desiredCount) return undefined;
  const wanted = tr.service.deploymentConfiguration;
  const have = existing.deploymentConfiguration;
  if (
    wanted &&
    (wanted.minimumHealthyPercent !== have?.minimumHealthyPercent || wanted.maximumPercent !== have?.maximumPercent)
  )
    return undefined;
  const current = await ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: existing.taskDefinition, include: ["TAGS"] }),
  );
  return current.tags?.some((tag) => tag.key === DIGEST_TAG && tag.value === digest)
    ? current.taskDefinition
    : undefined;
}

async function up(ecs: ECSClient, t: Target, l: Loaded, v: Record<string, unknown>): Promise<number> {
  const tr = translateFile(l);
  const waitMs = timeoutMs(v);
  const progress = progressFor(Boolean(v.json));
  const digest = digestOf(tr.taskDefinition);
  const existing = await describeService(ecs, t, tr.service.serviceName);
  const same = existing?.status === "ACTIVE" ? await upToDate(ecs, existing, tr, digest) : undefined;
  if (existing && same) {
    progress.log(`Service ${tr.service.serviceName} is up to date (${definitionOf(existing.taskDefinition)})`);
    progress.done();
    if (v.json) printJson({ taskDefinition: same, service: existing });
    else {
      printServices([existing]);
      console.log("");
      printTasks((await listTasks(ecs, t, { serviceName: tr.service.serviceName })).tasks);
    }
    return 0;
  }
  const registered = await ecs.send(
    new RegisterTaskDefinitionCommand({
      ...tr.taskDefinition,
      tags: [...(tr.taskDefinition.tags ?? []), { key: DIGEST_TAG, value: digest }],
    }),
  );
  const arn = registered.taskDefinition?.taskDefinitionArn as string;
  let changed: Service | undefined;
  if (existing?.status === "ACTIVE") {
    ({ service: changed } = await ecs.send(
      new UpdateServiceCommand({
        cluster: t.cluster,
        service: tr.service.serviceName,
        taskDefinition: arn,
        ...(tr.service.desiredCount !== undefined ? { desiredCount: tr.service.desiredCount } : {}),
        ...(tr.service.deploymentConfiguration ? { deploymentConfiguration: tr.service.deploymentConfiguration } : {}),
      }),
    ));
    progress.log(`Updated service ${tr.service.serviceName} to ${definitionOf(arn)}`);
  } else {
    ({ service: changed } = await ecs.send(
      new CreateServiceCommand({
        cluster: t.cluster,
        serviceName: tr.service.serviceName,
        taskDefinition: arn,
        schedulingStrategy: tr.service.schedulingStrategy,
        ...(tr.service.desiredCount !== undefined ? { desiredCount: tr.service.desiredCount } : {}),
        ...(tr.service.deploymentConfiguration ? { deploymentConfiguration: tr.service.deploymentConfiguration } : {}),
      }),
    ));
    progress.log(`Created service ${tr.service.serviceName} running ${definitionOf(arn)}`);
  }
  let service: Service | undefined;
  const deployment = changed?.deployments?.find((d) => d.status === "PRIMARY")?.id;
  if (!v["no-wait"] && changed && deployment) {
    // Up means the new containers run (and pass their health checks): the rollout completed.
    const outcome = await watchDeployment(
      ecs,
      t,
      tr.service.serviceName,
      deployment,
      seenEvents([changed]),
      progress,
      waitMs,
    );
    progress.done();
    if (!outcome.ok) {
      console.error(`berth compose up: ${outcome.reason}`);
      return 1;
    }
    service = outcome.value;
  }
  service ??= await describeService(ecs, t, tr.service.serviceName);
  if (v.json) {
    printJson({ taskDefinition: registered.taskDefinition, service });
    return 0;
  }
  if (service) printServices([service]);
  console.log("");
  printTasks((await listTasks(ecs, t, { serviceName: tr.service.serviceName })).tasks);
  return 0;
}

async function down(ecs: ECSClient, t: Target, project: string, v: Record<string, unknown>): Promise<number> {
  const progress = progressFor(Boolean(v.json));
  const removed: { service?: string; taskDefinitions: string[] } = { taskDefinitions: [] };
  const existing = await describeService(ecs, t, project);
  if (existing?.status === "ACTIVE") {
    // force: the service goes whatever its desired count; its tasks are stopped.
    await ecs.send(new DeleteServiceCommand({ cluster: t.cluster, service: project, force: true }));
    removed.service = existing.serviceArn;
    progress.log(`Deleted service ${project}`);
  }
  const arns: string[] = [];
  for await (const page of paginateListTaskDefinitions({ client: ecs }, { familyPrefix: project, status: "ACTIVE" })) {
    // familyPrefix matches longer families too (web matches web-worker): keep the exact family only.
    arns.push(...(page.taskDefinitionArns ?? []).filter((a) => definitionOf(a).replace(/:\d+$/, "") === project));
  }
  for (const arn of arns) {
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
    removed.taskDefinitions.push(arn);
  }
  if (arns.length) progress.log(`Deregistered ${arns.map(definitionOf).join(", ")}`);
  if ((existing?.status === "ACTIVE" || existing?.status === "DRAINING") && !v["no-wait"]) {
    const outcome = await watch(
      progress,
      async () => {
        const s = await describeService(ecs, t, project);
        const status = `${project}: ${s?.status ?? "gone"}, ${s?.runningCount ?? 0} running, ${s?.pendingCount ?? 0} pending`;
        return !s || s.status === "INACTIVE" ? { status, done: true } : { status };
      },
      { timeoutMs: timeoutMs(v), what: `service ${project} to stop its tasks` },
    );
    progress.done();
    if (!outcome.ok) {
      console.error(`berth compose down: ${outcome.reason}`);
      return 1;
    }
  }
  if (v.json) printJson(removed);
  else if (!removed.service && !removed.taskDefinitions.length && existing?.status !== "DRAINING")
    console.log(`Nothing to remove for project ${project}.`);
  else console.log(`Project ${project} is down.`);
  return 0;
}

export const composeCommand: CommandSpec = {
  name: "compose",
  summary: "run a Docker Compose file as an ECS service (one task definition, one container per compose service)",
  usage: "berth compose <up|down|config> [-f FILE] [--project NAME] [--no-wait] [options]",
  options: {
    ...connectionOptions,
    ...timeoutOption,
    file: { type: "string", short: "f" },
    project: { type: "string", short: "p" },
    "no-wait": { type: "boolean" },
  },
  allowPositionals: true,
  help: [
    [
      "up",
      "register the task definition (family = project), create or update the service, and follow the rollout until it completes; an unchanged file changes nothing",
    ],
    ["down", "delete the service (force) and deregister the family's revisions; waits until its tasks stopped"],
    ["config", "print the task definition and service the file translates to (JSON); changes nothing"],
    ["-f, --file FILE", `compose file (default: the first of ${DEFAULT_FILES.join(", ")})`],
    [
      "-p, --project NAME",
      "project name: family and service name (default $COMPOSE_PROJECT_NAME, the file's name:, or its folder's name)",
    ],
    ["--no-wait", "return once the API has accepted the change"],
    timeoutHelp,
    ...connectionHelp,
  ],
  examples: [
    "berth compose up -f compose.yml --project shop",
    "berth compose config -f compose.yml",
    "berth compose down --project shop",
  ],
  async run(v, positionals) {
    const [sub, ...extra] = positionals;
    if (sub !== "up" && sub !== "down" && sub !== "config")
      throw new UsageError("say what to do: berth compose up, down or config");
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const projectFlag = v.project === undefined ? undefined : String(v.project);
    const file = findFile(v.file === undefined ? undefined : String(v.file));
    try {
      if (sub === "down") {
        let project: string;
        if (file && (v.file !== undefined || projectFlag === undefined)) project = load(file, projectFlag).project;
        else if (projectFlag !== undefined) project = projectName({ flag: projectFlag, env: {}, dirName: "" });
        else
          throw new UsageError(
            `no compose file here (${DEFAULT_FILES.join(", ")}): name it with -f, or the project with --project`,
          );
        const t = target(v);
        return await down(ecsClient(t), t, project, v);
      }
      if (!file) throw new UsageError(`no compose file here (${DEFAULT_FILES.join(", ")}): name it with -f`);
      const loaded = load(file, projectFlag);
      if (sub === "config") {
        const tr = translateFile(loaded);
        console.log(JSON.stringify({ taskDefinition: tr.taskDefinition, service: tr.service }, null, 2));
        return 0;
      }
      const t = target(v);
      return await up(ecsClient(t), t, loaded, v);
    } catch (err) {
      if (err instanceof ComposeError) {
        console.error(`berth compose: ${err.message}`);
        return 1;
      }
      throw err;
    }
  },
};
