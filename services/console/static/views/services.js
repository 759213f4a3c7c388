// Services of a cluster, with each one's deployment progress, and creating a service.

import * as api from "../api.js";
import {
  badge,
  bar,
  button,
  emptyState,
  field,
  h,
  openDialog,
  pageHeader,
  table,
  taskDefName,
  timeCell,
  toast,
} from "../ui.js";

/** The PRIMARY deployment's progress: running and pending against desired. */
export function progress(d) {
  const desired = d?.desiredCount ?? 0;
  const running = d?.runningCount ?? 0;
  const pending = d?.pendingCount ?? 0;
  return h(
    "div",
    { class: "progress" },
    bar(
      [
        { value: running, tone: "ok", label: `${running} running` },
        { value: pending, tone: "warn", label: `${pending} pending` },
      ],
      desired,
      `${running} of ${desired} running`,
    ),
    h(
      "span",
      { class: "progress-label" },
      `${running}/${desired}`,
      pending ? h("span", { class: "pending" }, ` +${pending}`) : null,
    ),
  );
}

export function createServiceDialog(ctx, cluster) {
  const family = h(
    "select",
    { name: "taskDefinition", required: true, "data-testid": "create-taskdef" },
    h("option", { value: "" }, "Loading…"),
  );
  const name = h("input", {
    name: "serviceName",
    required: true,
    maxlength: 255,
    pattern: "[A-Za-z0-9_\\-]+",
    autocomplete: "off",
    "data-testid": "create-name",
  });
  const count = h("input", {
    name: "desiredCount",
    type: "number",
    min: 0,
    max: 1000,
    value: "1",
    required: true,
    "data-testid": "create-count",
  });
  const launch = h(
    "select",
    { name: "launchType" },
    h("option", { value: "EC2" }, "EC2"),
    h("option", { value: "FARGATE" }, "FARGATE"),
    h("option", { value: "EXTERNAL" }, "EXTERNAL"),
  );
  openDialog({
    title: `Create a service in ${cluster}`,
    body: [
      field("Task definition", family, "Active revisions by family, each family's newest first."),
      field("Service name", name, "Letters, digits, hyphens and underscores."),
      h("div", { class: "field-row" }, field("Desired tasks", count), field("Launch type", launch)),
    ],
    submitLabel: "Create service",
    async submit() {
      const r = await api.ecs("CreateService", {
        cluster,
        serviceName: name.value.trim(),
        taskDefinition: family.value,
        desiredCount: Number(count.value),
        launchType: launch.value,
      });
      toast(`Service ${r.service.serviceName} created.`);
      ctx.navigate(`#/services/${encodeURIComponent(cluster)}/${encodeURIComponent(r.service.serviceName)}`);
    },
  });
  api.taskDefinitions().then(
    (arns) => {
      family.replaceChildren(
        arns.length ? null : h("option", { value: "" }, "No task definitions: register one first"),
        ...arns.map((a) => h("option", { value: a }, taskDefName(a))),
      );
      if (!name.value && arns[0]) name.value = taskDefName(arns[0]).split(":")[0];
    },
    (err) => family.replaceChildren(h("option", { value: "" }, `Could not list task definitions: ${err.message}`)),
  );
  family.addEventListener("change", () => {
    if (!name.dataset.touched) name.value = taskDefName(family.value).split(":")[0];
  });
  name.addEventListener("input", () => {
    name.dataset.touched = "1";
  });
}

export default {
  nav: "services",

  load: ({ cluster }, signal) => api.services(cluster, signal),

  interested: (event, { cluster }) =>
    event.subject.includes(`.service.${cluster}.`) || event.subject.includes(`.task.${cluster}.`),

  render(services, ctx) {
    const { cluster } = ctx.params;
    const head = pageHeader("Services", `Cluster ${cluster}`, [
      button("Create service", () => createServiceDialog(ctx, cluster), { kind: "primary", action: "create-service" }),
    ]);
    if (services.length === 0)
      return h(
        "section",
        {},
        head,
        emptyState("No services in this cluster.", "Create one from a registered task definition."),
      );
    const rows = services.map((s) => {
      const primary = s.deployments?.find((d) => d.status === "PRIMARY");
      const href = `#/services/${encodeURIComponent(cluster)}/${encodeURIComponent(s.serviceName)}`;
      return h(
        "tr",
        { "data-testid": "service-row", "data-service": s.serviceName },
        h("td", {}, h("a", { href, class: "strong" }, s.serviceName)),
        h("td", {}, badge(s.status)),
        h("td", {}, h("code", {}, taskDefName(s.taskDefinition))),
        h("td", { "data-counts": `${s.runningCount}/${s.desiredCount}` }, progress(primary)),
        h(
          "td",
          {},
          primary ? badge(primary.rolloutState ?? "IN_PROGRESS") : "—",
          (s.deployments?.length ?? 0) > 1
            ? h("span", { class: "muted" }, ` +${s.deployments.length - 1} older`)
            : null,
        ),
        h("td", {}, s.launchType ?? "—"),
        h("td", {}, timeCell(s.createdAt)),
      );
    });
    return h(
      "section",
      {},
      head,
      table(
        ["Service", "Status", "Task definition", "Running / desired", "Deployment", "Launch type", "Created"],
        rows,
      ),
    );
  },
};
