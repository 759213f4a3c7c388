// Container instances of a cluster with their remaining resources; draining and activating them.

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

const resource = (list, name) => list?.find((r) => r.name === name);
const amount = (r) => r?.integerValue ?? r?.longValue ?? r?.doubleValue ?? 0;

/** Used against registered, as a bar and "remaining of registered". */
function usage(i, name, unit) {
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

  load: ({ cluster }) => api.instances(cluster),

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
        {
          "data-testid": "instance-row",
          "data-instance": id,
          "data-status": i.status,
          // The instance a task's page linked to.
          class: ctx.params.instance === id ? "highlight" : false,
          "aria-current": ctx.params.instance === id ? "true" : false,
        },
        h(
          "td",
          {},
          h("code", { title: i.containerInstanceArn }, shortId(id, 12)),
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
          i.agentConnected ? badge("CONNECTED", { class: "badge tone-ok" }) : badge("DISCONNECTED"),
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
        h(
          "td",
          { class: "row-actions" },
          i.status === "ACTIVE"
            ? button("Drain", () => setStatus(ctx, cluster, i, "DRAINING"), { kind: "small", action: "drain" })
            : i.status === "DRAINING"
              ? button("Activate", () => setStatus(ctx, cluster, i, "ACTIVE"), { kind: "small", action: "activate" })
              : null,
        ),
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
