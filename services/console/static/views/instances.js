// Container instances of a cluster with their remaining resources; draining and activating them
// (here and on an instance's page, which shares the usage bars and the action).

import * as api from "../api.js";
import {
  badge,
  bar,
  button,
  emptyState,
  h,
  idOf,
  openDialog,
  pageHeader,
  shortId,
  table,
  timeCell,
  toast,
} from "../ui.js";

export const resource = (list, name) => list?.find((r) => r.name === name);
const amount = (r) => r?.integerValue ?? r?.longValue ?? r?.doubleValue ?? 0;

/** An instance's page; `status` STOPPED lists its stopped tasks (RUNNING, ECS's default, is left out). */
export function instanceHref(cluster, id, { status } = {}) {
  const page = `#/instances/${encodeURIComponent(cluster)}/${encodeURIComponent(id)}`;
  return status && status !== "RUNNING" ? `${page}?status=${status}` : page;
}

/** Whether the instance's agent is connected to the control plane. */
export const agentBadge = (i) =>
  i.agentConnected ? badge("CONNECTED", { class: "badge tone-ok" }) : badge("DISCONNECTED");

/** Used against registered, as a bar and "remaining of registered". */
export function usage(i, name, unit) {
  const total = amount(resource(i.registeredResources, name));
  const left = amount(resource(i.remainingResources, name));
  const used = Math.max(0, total - left);
  return h(
    "div",
    { class: "usage", "data-resource": name, "data-remaining": left },
    bar(
      [{ value: used, tone: used / Math.max(total, 1) > 0.85 ? "warn" : "info", label: `${used} ${unit} reserved` }],
      total,
      `${left} of ${total} ${unit} remaining`,
    ),
    h(
      "span",
      { class: "usage-label" },
      h("strong", {}, left.toLocaleString()),
      ` of ${total.toLocaleString()} ${unit} free`,
    ),
  );
}

/** Drain an ACTIVE instance, activate a DRAINING one (an INACTIVE one has neither); `kind`: the button's. */
export function stateAction(ctx, cluster, i, kind) {
  if (i.status === "ACTIVE")
    return button("Drain", () => setStatus(ctx, cluster, i, "DRAINING"), { kind, action: "drain" });
  if (i.status === "DRAINING")
    return button("Activate", () => setStatus(ctx, cluster, i, "ACTIVE"), { kind, action: "activate" });
  return null;
}

function setStatus(ctx, cluster, i, status) {
  const id = shortId(idOf(i.containerInstanceArn), 12);
  const draining = status === "DRAINING";
  openDialog({
    title: draining ? `Drain instance ${id}?` : `Activate instance ${id}?`,
    body: [
      h(
        "p",
        { class: "muted" },
        draining
          ? "No new tasks are placed on it; service tasks on it are replaced elsewhere and stopped. Tasks started with RunTask keep running."
          : "The instance takes new tasks again.",
      ),
    ],
    submitLabel: draining ? "Drain" : "Activate",
    danger: draining,
    async submit() {
      await api.ecs("UpdateContainerInstancesState", { cluster, containerInstances: [i.containerInstanceArn], status });
      toast(`Instance ${id} is now ${status}.`);
      ctx.refresh();
    },
  });
}

export default {
  nav: "instances",

  load: ({ cluster }, signal) => api.instances(cluster, signal),

  interested: (event, { cluster }) =>
    event.subject.includes(`.instance.${cluster}.`) || event.subject.includes(`.task.${cluster}.`),

  render(instances, ctx) {
    const { cluster } = ctx.params;
    const head = pageHeader("Container instances", `Cluster ${cluster} · hosts running a Berth agent`);
    if (instances.length === 0)
      return h(
        "section",
        {},
        head,
        emptyState("No container instances.", `Start an agent: berth agent --cluster ${cluster}`),
      );
    const rows = instances.map((i) => {
      const id = idOf(i.containerInstanceArn);
      const ports = resource(i.remainingResources, "PORTS")?.stringSetValue ?? [];
      return h(
        "tr",
        { "data-testid": "instance-row", "data-instance": id, "data-status": i.status },
        h(
          "td",
          {},
          h(
            "a",
            { href: instanceHref(cluster, id), "data-testid": "instance-link", "aria-label": `Instance ${id}` },
            h("code", { title: i.containerInstanceArn }, shortId(id, 12)),
          ),
          h(
            "div",
            { class: "muted small" },
            i.ec2InstanceId ? `${i.ec2InstanceId} · ` : "",
            "registered ",
            timeCell(i.registeredAt),
          ),
        ),
        h("td", {}, badge(i.status)),
        h(
          "td",
          {},
          agentBadge(i),
          i.versionInfo?.agentVersion
            ? h("div", { class: "muted small" }, `agent ${i.versionInfo.agentVersion}`)
            : null,
        ),
        h(
          "td",
          { class: "num" },
          `${i.runningTasksCount ?? 0}`,
          i.pendingTasksCount ? h("span", { class: "muted" }, ` +${i.pendingTasksCount} pending`) : null,
        ),
        h("td", {}, usage(i, "CPU", "CPU units")),
        h("td", {}, usage(i, "MEMORY", "MiB")),
        h("td", { class: "muted small", title: ports.join(", ") }, ports.length ? `${ports.length} in use` : "none"),
        h("td", { class: "row-actions" }, stateAction(ctx, cluster, i, "small")),
      );
    });
    return h(
      "section",
      {},
      head,
      table(["Instance", "Status", "Agent", "Tasks", "CPU", "Memory", "Ports", ""], rows, { class: "instances" }),
    );
  },
};
