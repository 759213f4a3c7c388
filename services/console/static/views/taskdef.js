// One task definition revision (DescribeTaskDefinition): its settings, each container's, the
// family's other revisions to move between (ListTaskDefinitions, newest first) and its JSON.
// Environment variables and secrets are shown by name only.

import * as api from "../api.js";
import { badge, detail, details, h, notFoundPage, pageHeader, taskDefName, timeCell } from "../ui.js";
import { taskDefHref } from "./taskdefs.js";
import { tasksHref } from "./tasks.js";

/** Whether the JSON is shown: kept across live refreshes, which rebuild the page. */
let jsonOpen = false;

const list = (items, attrs = {}) =>
  items?.length ? h("ul", { class: "plain", ...attrs }, items.map((x) => h("li", {}, x))) : undefined;
const names = (items, attrs = {}) =>
  items?.length ? h("ul", { class: "chips", ...attrs }, items.map((x) => h("li", {}, h("code", {}, x.name)))) : undefined;
const words = (arr) => (arr?.length ? h("code", { class: "wrap" }, JSON.stringify(arr)) : undefined);
const yesNo = (v) => (v === undefined ? undefined : v ? "Yes" : "No");
/** A detail shown only when the definition sets it (most settings are rarely used). */
const ifSet = (term, value, attrs) => (value === undefined || value === null || value === "" ? null : detail(term, value, attrs));

/** `host → container/protocol`; no host port in bridge mode is a dynamic one. */
function portMapping(p, networkMode) {
  const host = p.hostPort || (networkMode === "bridge" || !networkMode ? "dynamic" : p.containerPort);
  return `${host} → ${p.containerPort}/${p.protocol ?? "tcp"}${p.name ? ` (${p.name})` : ""}`;
}

/** The health check's command and timings; ECS's defaults (30 s, 5 s, 3 retries) where not set. */
function healthCheck(c) {
  const hc = c.healthCheck;
  if (!hc) return undefined;
  return h(
    "span",
    {},
    words(hc.command),
    h(
      "span",
      { class: "muted small block" },
      `every ${hc.interval ?? 30} s, timeout ${hc.timeout ?? 5} s, ${hc.retries ?? 3} retries`,
      hc.startPeriod ? `, start period ${hc.startPeriod} s` : "",
    ),
  );
}

function containerDefinition(c, networkMode) {
  const memory = [c.memory ? `${c.memory} hard` : null, c.memoryReservation ? `${c.memoryReservation} soft` : null]
    .filter(Boolean)
    .join(" · ");
  return h(
    "article",
    { class: "panel container-def", "data-testid": "container-def", "data-container": c.name },
    h(
      "h3",
      {},
      c.name,
      " ",
      c.essential === false ? badge("NOT_ESSENTIAL", { class: "badge tone-off" }) : badge("ESSENTIAL", { class: "badge tone-info" }),
    ),
    details(
      detail("Image", h("code", { class: "wrap" }, c.image), { "data-field": "image" }),
      detail("Essential", yesNo(c.essential ?? true), { "data-field": "essential" }),
      detail("CPU units", c.cpu, { "data-field": "cpu" }),
      detail("Memory (MiB)", memory, { "data-field": "memory" }),
      detail(
        "Port mappings",
        list((c.portMappings ?? []).map((p) => portMapping(p, networkMode))),
        { "data-field": "ports" },
      ),
      detail(
        "Depends on",
        list((c.dependsOn ?? []).map((d) => `${d.containerName} ${d.condition}`)),
        { "data-field": "dependsOn" },
      ),
      detail("Command", words(c.command), { "data-field": "command", class: "detail detail-wide" }),
      ifSet("Entry point", words(c.entryPoint), { "data-field": "entryPoint", class: "detail detail-wide" }),
      detail("Environment", names(c.environment), { "data-field": "environment", class: "detail detail-wide" }),
      ifSet("Secrets", names(c.secrets), { "data-field": "secrets", class: "detail detail-wide" }),
      detail("Health check", healthCheck(c), { "data-field": "healthCheck", class: "detail detail-wide" }),
      ifSet("Working directory", c.workingDirectory),
      ifSet("User", c.user),
      ifSet("Links", list(c.links)),
      ifSet("Stop timeout", c.stopTimeout === undefined ? undefined : `${c.stopTimeout} s`),
      ifSet("Log driver", c.logConfiguration?.logDriver),
    ),
  );
}

function revisionList(td, revisions) {
  return h(
    "nav",
    { class: "revisions", "aria-label": `Revisions of ${td.family}` },
    h(
      "ol",
      {},
      revisions.map((r) => {
        const name = taskDefName(r.arn);
        const current = r.revision === td.revision;
        return h(
          "li",
          { "data-revision": r.revision, "data-status": r.status },
          h(
            "a",
            { href: taskDefHref(name), "aria-current": current ? "page" : false, class: current ? "rev current" : "rev" },
            h("code", {}, name),
          ),
          r.status !== "ACTIVE" ? badge(r.status) : null,
        );
      }),
    ),
  );
}

async function describe(taskDefinition, signal) {
  try {
    return await api.ecs("DescribeTaskDefinition", { taskDefinition, include: ["TAGS"] }, signal);
  } catch (err) {
    // ECS's answers for a family or revision it does not have, and for a malformed reference.
    if (err.code === "ClientException" || err.code === "InvalidParameterException") return { missing: err.detail };
    throw err;
  }
}

export default {
  nav: "taskdefs",

  clusterless: true,

  title: ({ taskDefinition }) => taskDefinition,

  async load({ taskDefinition }, signal) {
    let r = await describe(taskDefinition, signal);
    // A family alone is its latest ACTIVE revision; with none active, its newest one.
    if (r.missing && /^[A-Za-z0-9_-]+$/.test(taskDefinition)) {
      const [newest] = await api.revisions(taskDefinition, signal);
      if (newest) r = await describe(taskDefName(newest.arn), signal);
    }
    if (r.missing) return r;
    const td = r.taskDefinition;
    return { td, tags: r.tags ?? [], revisions: await api.revisions(td.family, signal) };
  },

  interested: (event, { taskDefinition }) => event.subject.endsWith(`.taskdef.${taskDefinition.split(":")[0]}`),

  render({ td, tags, revisions, missing }, ctx) {
    const back = h("a", { class: "crumb", href: "#/taskdefs" }, "← Task definitions");
    if (!td)
      return notFoundPage(
        { "data-testid": "taskdef-not-found" },
        back,
        ctx.params.taskDefinition,
        "Task definition not found.",
        missing || "No such family or revision.",
      );
    const name = `${td.family}:${td.revision}`;
    const cluster = ctx.cluster;
    const head = pageHeader(
      h("span", { class: "wrap" }, name),
      h(
        "span",
        {},
        badge(td.status),
        " · registered ",
        timeCell(td.registeredAt),
        td.registeredBy ? h("span", { class: "muted" }, ` by ${td.registeredBy}`) : null,
      ),
      cluster
        ? [h("a", { class: "btn", href: tasksHref(cluster, { family: td.family }) }, `Tasks of ${td.family} in ${cluster}`)]
        : [],
    );
    const json = JSON.stringify({ taskDefinition: td, tags }, null, 2);
    return h(
      "section",
      { "data-testid": "taskdef-page", "data-taskdef": name, "data-status": td.status },
      back,
      head,
      h("h2", { class: "section-title" }, "Revisions"),
      revisionList(td, revisions),
      h("h2", { class: "section-title" }, "Overview"),
      details(
        detail("Status", badge(td.status), { "data-field": "status" }),
        detail("Network mode", td.networkMode ?? "bridge", { "data-field": "networkMode" }),
        detail("Task CPU units", td.cpu, { "data-field": "cpu" }),
        detail("Task memory (MiB)", td.memory, { "data-field": "memory" }),
        detail("Task role", td.taskRoleArn ? h("code", { class: "wrap" }, td.taskRoleArn) : undefined, {
          "data-field": "taskRole",
        }),
        detail("Task execution role", td.executionRoleArn ? h("code", { class: "wrap" }, td.executionRoleArn) : undefined, {
          "data-field": "executionRole",
        }),
        detail("Compatible with", td.compatibilities?.join(", ")),
        ifSet("Requires compatibilities", td.requiresCompatibilities?.join(", ")),
        ifSet(
          "Runtime platform",
          [td.runtimePlatform?.operatingSystemFamily, td.runtimePlatform?.cpuArchitecture].filter(Boolean).join(" · "),
        ),
        ifSet("PID mode", td.pidMode),
        ifSet("IPC mode", td.ipcMode),
        ifSet("Volumes", names(td.volumes)),
        ifSet("Deregistered", td.deregisteredAt ? timeCell(td.deregisteredAt) : undefined),
        ifSet("Tags", list(tags.map((t) => `${t.key} = ${t.value}`))),
      ),
      h("h2", { class: "section-title" }, `Containers (${td.containerDefinitions?.length ?? 0})`),
      h(
        "div",
        { class: "container-defs" },
        (td.containerDefinitions ?? []).map((c) => containerDefinition(c, td.networkMode)),
      ),
      h(
        "details",
        {
          class: "raw-json",
          open: jsonOpen,
          ontoggle: (e) => {
            jsonOpen = e.currentTarget.open;
          },
        },
        h("summary", { "data-action": "toggle-json" }, "JSON"),
        h("pre", { tabindex: "0", "aria-label": `${name} as JSON`, "data-testid": "taskdef-json" }, h("code", {}, json)),
      ),
    );
  },
};
