// Task rows with their containers, exit codes and stop reasons, and stopping a task: shared by the
// tasks list, a service's page, a container instance's page and a task's page.

import * as api from "../api.js";
import {
  badge,
  button,
  field,
  fmtTime,
  h,
  idOf,
  openDialog,
  shortId,
  table,
  taskDefName,
  timeCell,
  toast,
} from "../ui.js";
import { instanceHref } from "./instances.js";
import { taskDefHref } from "./taskdefs.js";

export const taskHref = (cluster, id) => `#/tasks/${encodeURIComponent(cluster)}/${encodeURIComponent(id)}`;

/** A task definition ARN as `family:revision`, linked to its page. */
export function taskDefLink(arn) {
  const name = taskDefName(arn);
  return name ? h("a", { href: taskDefHref(name) }, h("code", {}, name)) : "—";
}

/**
 * A task's group; `service:NAME` links to the service's page. In a narrow column the name goes,
 * whole, below its `service:` or `family:` rather than the table growing wider.
 */
export function groupLink(cluster, group) {
  if (!group) return "";
  const colon = group.indexOf(":");
  const text =
    colon < 0 ? group : [group.slice(0, colon + 1), h("wbr"), h("span", { class: "nowrap" }, group.slice(colon + 1))];
  const service = group.startsWith("service:") ? group.slice("service:".length) : undefined;
  if (!service) return text;
  return h("a", { href: `#/services/${encodeURIComponent(cluster)}/${encodeURIComponent(service)}` }, text);
}

function containerLine(c) {
  return h(
    "li",
    { class: "container", "data-container": c.name, "data-status": c.lastStatus },
    h("span", { class: "container-name" }, c.name),
    badge(c.lastStatus),
    c.exitCode !== undefined
      ? h(
          "span",
          { class: `exit ${c.exitCode === 0 ? "exit-ok" : "exit-bad"}`, "data-testid": "exit-code" },
          `exit ${c.exitCode}`,
        )
      : null,
    c.healthStatus && c.healthStatus !== "UNKNOWN" ? badge(c.healthStatus) : null,
    c.reason ? h("span", { class: "reason" }, c.reason) : null,
    c.networkBindings?.length
      ? h(
          "span",
          { class: "muted ports" },
          c.networkBindings.map((b) => `${b.hostPort}→${b.containerPort}/${b.protocol ?? "tcp"}`).join(", "),
        )
      : null,
  );
}

export function stopTaskDialog(ctx, cluster, task) {
  const reason = h("input", {
    name: "reason",
    maxlength: 255,
    placeholder: "Stopped from the Berth console",
    "data-testid": "stop-reason",
  });
  openDialog({
    title: `Stop task ${shortId(idOf(task.taskArn), 12)}?`,
    body: [
      h(
        "p",
        { class: "muted" },
        task.group?.startsWith("service:")
          ? "Its service starts a replacement to keep its desired count."
          : "The task's containers are stopped.",
      ),
      field("Reason", reason, "Shown as the task's stoppedReason."),
    ],
    submitLabel: "Stop task",
    danger: true,
    async submit() {
      await api.ecs("StopTask", {
        cluster,
        task: task.taskArn,
        reason: reason.value.trim() || "Stopped from the Berth console",
      });
      toast(`Stopping task ${shortId(idOf(task.taskArn), 12)}.`);
      ctx.refresh();
    },
  });
}

/** A task not yet asked to stop: its row offers Stop. */
const stoppable = (t) => t.desiredStatus !== "STOPPED";

/** A task asked to stop: its row says why and when. */
const stopped = (t) => Boolean(t.stoppedReason || t.stopCode || t.stoppedAt);

/**
 * Task rows, each with the instance it is on (linked) and its group (`showGroup`); a page of one
 * instance's tasks leaves the instance out (`showInstance`). A column no row has anything in is
 * left out, so the others have its width: running tasks have no stop details, stopped tasks
 * nothing to stop.
 */
export function taskTable(tasks, ctx, cluster, { showGroup = true, showInstance = true } = {}) {
  const showStopped = tasks.some(stopped);
  const showActions = tasks.some(stoppable);
  const rows = tasks.map((t) => {
    const id = idOf(t.taskArn);
    return h(
      "tr",
      {
        "data-testid": "task-row",
        "data-task": id,
        "data-status": t.lastStatus,
        "data-desired": t.desiredStatus,
        "data-group": t.group ?? "",
      },
      h(
        "td",
        {},
        h(
          "a",
          { href: taskHref(cluster, id), "data-testid": "task-link", "aria-label": `Task ${id}` },
          h("code", { title: t.taskArn }, shortId(id, 12)),
        ),
        showInstance && t.containerInstanceArn
          ? h(
              "div",
              { class: "muted small" },
              "on ",
              h(
                "a",
                { href: instanceHref(cluster, idOf(t.containerInstanceArn)), title: t.containerInstanceArn },
                shortId(idOf(t.containerInstanceArn), 8),
              ),
            )
          : null,
      ),
      showGroup ? h("td", { class: "muted" }, groupLink(cluster, t.group)) : null,
      h("td", {}, taskDefLink(t.taskDefinitionArn)),
      h(
        "td",
        {},
        badge(t.lastStatus),
        t.desiredStatus !== t.lastStatus && t.lastStatus !== "STOPPED"
          ? h("span", { class: "muted desired" }, ` → ${t.desiredStatus}`)
          : null,
      ),
      h("td", {}, h("ul", { class: "containers" }, (t.containers ?? []).map(containerLine))),
      h("td", {}, timeCell(t.startedAt ?? t.createdAt)),
      showStopped
        ? h(
            "td",
            {},
            h(
              "div",
              { class: "stop-info" },
              t.stoppedReason ? h("span", { class: "reason", "data-testid": "stopped-reason" }, t.stoppedReason) : null,
              t.stopCode || t.stoppedAt
                ? h(
                    "span",
                    { class: "muted small" },
                    [t.stopCode, t.stoppedAt ? fmtTime(t.stoppedAt) : null].filter(Boolean).join(" · "),
                  )
                : null,
            ),
          )
        : null,
      showActions
        ? h(
            "td",
            { class: "row-actions" },
            stoppable(t)
              ? button("Stop", () => stopTaskDialog(ctx, cluster, t), {
                  kind: "small danger-outline",
                  action: "stop-task",
                  ariaLabel: `Stop task ${shortId(id, 12)}`,
                })
              : null,
          )
        : null,
    );
  });
  const headers = [
    "Task",
    showGroup ? "Group" : null,
    "Task definition",
    "Status",
    "Containers",
    "Started",
    showStopped ? "Stopped" : null,
    showActions ? "" : null,
  ].filter((x) => x !== null);
  return table(headers, rows, { class: "tasks" });
}
