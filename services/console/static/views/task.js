// One task, as the ECS console's task page shows it: its status, where and from what it runs, its
// times and why it stopped, and each container with its exit code, health and network bindings.
// Action: stop it.

import * as api from "../api.js";
import { badge, button, detail, details, h, idOf, notFoundPage, pageHeader, shortId, table, timeCell } from "../ui.js";
import { instanceHref } from "./instances.js";
import { groupLink, stopTaskDialog, taskDefLink } from "./task-table.js";
import { tasksHref } from "./tasks.js";

const time = (seconds) => (seconds ? timeCell(seconds) : undefined);

/** `hostIp:hostPort → containerPort/protocol`, as ECS lists a network binding. */
const binding = (b) =>
  `${b.bindIP && b.bindIP !== "0.0.0.0" ? `${b.bindIP}:` : ""}${b.hostPort} → ${b.containerPort}/${b.protocol ?? "tcp"}`;

function containerRows(task) {
  return (task.containers ?? []).map((c) =>
    h(
      "tr",
      { "data-testid": "container-row", "data-container": c.name, "data-status": c.lastStatus ?? "" },
      h("td", {}, h("span", { class: "container-name" }, c.name)),
      h("td", {}, h("code", { class: "nowrap" }, c.image ?? "")),
      h("td", {}, badge(c.lastStatus)),
      h(
        "td",
        { class: "num", "data-testid": "exit-code" },
        c.exitCode === undefined || c.exitCode === null
          ? "—"
          : h("span", { class: `exit ${c.exitCode === 0 ? "exit-ok" : "exit-bad"}` }, String(c.exitCode)),
      ),
      h("td", { class: "reason-text" }, c.reason ?? ""),
      h("td", {}, c.healthStatus ? badge(c.healthStatus) : "—"),
      h(
        "td",
        { "data-testid": "network-bindings" },
        c.networkBindings?.length
          ? h("ul", { class: "plain" }, c.networkBindings.map((b) => h("li", { class: "nowrap" }, binding(b))))
          : "—",
      ),
      h("td", {}, c.runtimeId ? h("code", { title: c.runtimeId }, shortId(c.runtimeId, 12)) : "—"),
    ),
  );
}

export default {
  nav: "tasks",

  title: ({ task }) => `Task ${shortId(task, 12)}`,

  async load({ cluster, task }, signal) {
    const found = await api.task(cluster, task, signal);
    const arn = found.task?.containerInstanceArn;
    // Linked only while the instance is still registered (a deregistered one has no row to show).
    const instance = arn
      ? await api
          .instance(cluster, arn, signal)
          .then((r) => r.instance)
          .catch(() => undefined)
      : undefined;
    return { ...found, instance };
  },

  interested: (event, { cluster, task }) => event.subject.endsWith(`.task.${cluster}.${task}`),

  render({ task: t, missing, instance }, ctx) {
    const { cluster, task } = ctx.params;
    const back = h("a", { class: "crumb", href: tasksHref(cluster) }, `← Tasks of ${cluster}`);
    if (!t)
      return notFoundPage(
        { "data-testid": "task-not-found", "data-task": task },
        back,
        `Task ${task}`,
        `Task not found in cluster ${cluster}.`,
        `DescribeTasks answers ${missing}: no such task, or it stopped long enough ago that it is no longer kept.`,
      );
    const id = idOf(t.taskArn);
    const instanceId = t.containerInstanceArn ? idOf(t.containerInstanceArn) : undefined;
    const head = pageHeader(
      h("span", { class: "wrap" }, `Task ${id}`),
      h(
        "span",
        {},
        badge(t.lastStatus),
        t.desiredStatus !== t.lastStatus ? h("span", { class: "muted" }, ` → desired ${t.desiredStatus}`) : null,
        " · ",
        h("code", { class: "wrap" }, t.taskArn),
      ),
      t.desiredStatus !== "STOPPED"
        ? [
            button("Stop", () => stopTaskDialog(ctx, cluster, t), {
              kind: "danger-outline",
              action: "stop-task",
              ariaLabel: `Stop task ${shortId(id, 12)}`,
            }),
          ]
        : [],
    );
    return h(
      "section",
      { "data-testid": "task-page", "data-task": id, "data-status": t.lastStatus, "data-desired": t.desiredStatus },
      back,
      head,
      h("h2", { class: "section-title" }, "Overview"),
      details(
        detail("Last status", badge(t.lastStatus), { "data-field": "lastStatus" }),
        detail("Desired status", badge(t.desiredStatus), { "data-field": "desiredStatus" }),
        detail("Health status", t.healthStatus ? badge(t.healthStatus) : undefined, { "data-field": "healthStatus" }),
        detail("Task definition", taskDefLink(t.taskDefinitionArn), { "data-field": "taskDefinition" }),
        detail("Group", t.group ? groupLink(cluster, t.group) : undefined, { "data-field": "group" }),
        detail("Started by", t.startedBy, { "data-field": "startedBy" }),
        detail("Launch type", t.launchType ?? (t.capacityProviderName ? `capacity provider ${t.capacityProviderName}` : undefined), {
          "data-field": "launchType",
        }),
        detail(
          "Container instance",
          instanceId
            ? instance
              ? h(
                  "a",
                  { href: instanceHref(cluster, instanceId) },
                  h("code", { title: t.containerInstanceArn }, shortId(instanceId, 12)),
                )
              : h("span", {}, h("code", { title: t.containerInstanceArn }, shortId(instanceId, 12)), " (deregistered)")
            : undefined,
          { "data-field": "containerInstance" },
        ),
        detail("CPU units", t.cpu, { "data-field": "cpu" }),
        detail("Memory (MiB)", t.memory, { "data-field": "memory" }),
        detail("Availability zone", t.availabilityZone),
      ),
      h("h2", { class: "section-title" }, "Lifecycle"),
      details(
        detail("Created", time(t.createdAt), { "data-field": "createdAt" }),
        detail("Pull started", time(t.pullStartedAt)),
        detail("Pull stopped", time(t.pullStoppedAt)),
        detail("Started", time(t.startedAt), { "data-field": "startedAt" }),
        detail("Stopping", time(t.stoppingAt), { "data-field": "stoppingAt" }),
        detail("Execution stopped", time(t.executionStoppedAt)),
        detail("Stopped", time(t.stoppedAt), { "data-field": "stoppedAt" }),
        detail("Stop code", t.stopCode, { "data-field": "stopCode" }),
        detail("Stopped reason", t.stoppedReason, { "data-field": "stoppedReason", class: "detail detail-wide" }),
      ),
      h("h2", { class: "section-title" }, "Containers"),
      table(
        ["Name", "Image", "Last status", "Exit code", "Reason", "Health", "Network bindings", "Runtime id"],
        containerRows(t),
        { class: "containers-table" },
      ),
      t.tags?.length
        ? [
            h("h2", { class: "section-title" }, "Tags"),
            details(...t.tags.map((tag) => detail(tag.key, tag.value))),
          ]
        : null,
    );
  },
};
