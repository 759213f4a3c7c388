// One service: its counts, deployments with their progress, its service deployments (history),
// its tasks (running, then stopped; a page at a time) and its event messages.
// Actions: scale, force a new deployment, roll back a service deployment in progress.

import * as api from "../api.js";
import {
  badge,
  button,
  emptyState,
  field,
  h,
  idOf,
  loadError,
  notFoundPage,
  openDialog,
  pageHeader,
  table,
  taskDefName,
  timeCell,
  toast,
} from "../ui.js";
import { progress } from "./services.js";
import { pageSizeFilter, taskPaging } from "./task-pages.js";

function scaleDialog(ctx, cluster, s) {
  const count = h("input", {
    name: "desiredCount",
    type: "number",
    min: 0,
    max: 1000,
    value: String(s.desiredCount),
    required: true,
    "data-testid": "scale-count",
  });
  openDialog({
    title: `Scale ${s.serviceName}`,
    body: [field("Desired tasks", count, `Now ${s.desiredCount}; ${s.runningCount} running.`)],
    submitLabel: "Update desired count",
    async submit() {
      await api.ecs("UpdateService", { cluster, service: s.serviceName, desiredCount: Number(count.value) });
      toast(`${s.serviceName}: desired count set to ${count.value}.`);
      ctx.refresh();
    },
  });
}

function redeployDialog(ctx, cluster, s) {
  openDialog({
    title: `Force a new deployment of ${s.serviceName}?`,
    body: [
      h(
        "p",
        { class: "muted" },
        "Every task is replaced by a new one from the same task definition, within the service's deployment configuration.",
      ),
    ],
    submitLabel: "Force new deployment",
    async submit() {
      await api.ecs("UpdateService", { cluster, service: s.serviceName, forceNewDeployment: true });
      toast(`${s.serviceName}: new deployment started.`);
      ctx.refresh();
    },
  });
}

function rollbackDialog(ctx, s, d) {
  openDialog({
    title: `Roll back service deployment ${idOf(d.serviceDeploymentArn)}?`,
    body: [
      h(
        "p",
        { class: "muted" },
        `${s.serviceName} goes back to the service revision it ran before, within its deployment configuration (StopServiceDeployment).`,
      ),
    ],
    submitLabel: "Roll back",
    async submit() {
      await api.ecs("StopServiceDeployment", { serviceDeploymentArn: d.serviceDeploymentArn, stopType: "ROLLBACK" });
      toast(`${s.serviceName}: rolling back.`);
      ctx.refresh();
    },
  });
}

/** Pages shown of the service's tasks. */
const paging = taskPaging();

/** Service deployments shown, newest first. */
const HISTORY_SHOWN = 10;

/** The last element of an ARN. */

/** A rollout reason worth showing: not ECS's routine "ECS deployment <id> in progress/completed." */
const unusual = (d) =>
  d.rolloutStateReason && !/^ECS deployment \S+ (in progress|completed)\.$/.test(d.rolloutStateReason);

const number = (label, value, tone) =>
  h(
    "div",
    { class: `stat ${tone ? `tone-text-${tone}` : ""}`, "data-stat": label.toLowerCase() },
    h("span", { class: "stat-value" }, value),
    h("span", { class: "stat-label" }, label),
  );

export default {
  nav: "services",

  async load({ cluster, service }, signal) {
    const found = await api.service(cluster, service, signal);
    // Once the service is known: ListTasks and ListServiceDeployments refuse a name the cluster has
    // no service of (ServiceNotFoundException), which DescribeServices has already answered MISSING.
    if (!found.service) return found;
    const s = found.service;
    const [listing, history] = await Promise.all([
      // Its running tasks, then those it stopped (ECS keeps them listed for a while). An error is
      // shown in their place, below what was read of the service.
      paging
        .load(
          cluster,
          [
            { serviceName: s.serviceName, desiredStatus: "RUNNING" },
            { serviceName: s.serviceName, desiredStatus: "STOPPED" },
          ],
          signal,
        )
        .catch((error) => ({ tasks: [], more: false, error })),
      api
        .ecs("ListServiceDeployments", { cluster, service: s.serviceName, maxResults: HISTORY_SHOWN }, signal)
        .then((r) => r.serviceDeployments ?? [])
        .catch(() => []),
    ]);
    return { s, listing, history };
  },

  interested: (event, { cluster, service }) =>
    event.subject.endsWith(`.service.${cluster}.${service}`) || event.subject.includes(`.task.${cluster}.`),

  render({ s, missing, listing, history }, ctx) {
    const { cluster, service } = ctx.params;
    const back = h(
      "a",
      { class: "crumb", href: `#/services/${encodeURIComponent(cluster)}` },
      `← Services of ${cluster}`,
    );
    // A deleted service is still described, INACTIVE (its page shows it so, with the tasks it had);
    // DescribeServices answers MISSING for a name the cluster never had a service of.
    if (!s)
      return notFoundPage(
        { "data-testid": "service-not-found", "data-service": service },
        back,
        `Service ${service}`,
        `Service not found in cluster ${cluster}.`,
        `DescribeServices answers ${missing}: the cluster has no service of that name.`,
      );
    const active = s.status === "ACTIVE";
    const head = pageHeader(
      s.serviceName,
      h(
        "span",
        {},
        badge(s.status),
        " ",
        h("code", {}, taskDefName(s.taskDefinition)),
        ` · ${s.schedulingStrategy ?? "REPLICA"} · ${s.launchType ?? "capacity provider"}`,
      ),
      active
        ? [
            button("Scale", () => scaleDialog(ctx, cluster, s), { action: "scale", kind: "primary" }),
            button("Force new deployment", () => redeployDialog(ctx, cluster, s), { action: "force-deployment" }),
          ]
        : [],
    );
    const deployments = table(
      ["Deployment", "Status", "Task definition", "Running / desired", "Failed", "Rollout", "Updated"],
      (s.deployments ?? []).map((d) =>
        h(
          "tr",
          { "data-testid": "deployment-row", "data-rollout": d.rolloutState ?? "", "data-deployment": d.id },
          // The number, as in the history below; ECS's whole id (ecs-svc/…) on hover.
          h("td", {}, h("code", { class: "nowrap", title: d.id }, String(d.id).replace(/^ecs-svc\//, ""))),
          h("td", {}, badge(d.status)),
          h("td", {}, h("code", {}, taskDefName(d.taskDefinition))),
          h("td", {}, progress(d)),
          h("td", { class: "num" }, d.failedTasks ?? 0),
          h(
            "td",
            { title: d.rolloutStateReason ?? "" },
            badge(d.rolloutState ?? "IN_PROGRESS"),
            unusual(d) ? h("div", { class: "muted small reason-text" }, d.rolloutStateReason) : null,
          ),
          h("td", {}, timeCell(d.updatedAt)),
        ),
      ),
    );
    const historyTable = table(
      ["Service deployment", "Status", "Started", "Finished", "Reason", ""],
      history.map((d) =>
        h(
          "tr",
          { "data-testid": "history-row", "data-status": d.status ?? "", "data-deployment": idOf(d.serviceDeploymentArn) },
          h("td", {}, h("code", { class: "nowrap", title: d.serviceDeploymentArn }, idOf(d.serviceDeploymentArn))),
          h("td", {}, badge(d.status)),
          h("td", {}, timeCell(d.startedAt)),
          h("td", {}, d.finishedAt ? timeCell(d.finishedAt) : "—"),
          h("td", { class: "muted small" }, d.statusReason ?? ""),
          h(
            "td",
            {},
            // Only with a deployment before it to go back to (a service's first has none).
            active && d.status === "IN_PROGRESS" && history.some((o) => o !== d)
              ? button("Roll back", () => rollbackDialog(ctx, s, d), { action: "rollback" })
              : null,
          ),
        ),
      ),
    );
    const events = (s.events ?? []).slice(0, 50);
    return h(
      "section",
      { "data-testid": "service-page", "data-service": s.serviceName },
      back,
      head,
      h(
        "div",
        { class: "stats stats-wide" },
        number("Desired", s.desiredCount),
        number("Running", s.runningCount, s.runningCount === s.desiredCount ? "ok" : undefined),
        number("Pending", s.pendingCount, s.pendingCount ? "warn" : undefined),
        number("Deployments", s.deployments?.length ?? 0),
      ),
      h("h2", { class: "section-title" }, "Deployments"),
      deployments,
      h("h2", { class: "section-title" }, "History"),
      history.length ? historyTable : h("p", { class: "muted" }, "No service deployments."),
      h("h2", { class: "section-title" }, "Tasks"),
      h("div", { class: "filters", role: "group", "aria-label": "Tasks of the service" }, pageSizeFilter(ctx)),
      listing.error
        ? loadError("Could not list the service's tasks.", listing.error)
        : listing.tasks.length
          ? paging.render(listing, ctx, cluster, { what: "tasks", showGroup: false })
          : emptyState("No tasks yet.", active && s.desiredCount > 0 ? "The scheduler is placing them." : null),
      h("h2", { class: "section-title" }, "Events"),
      events.length
        ? h(
            "ol",
            { class: "events", "data-testid": "service-events" },
            events.map((e) => h("li", {}, timeCell(e.createdAt), h("span", {}, e.message))),
          )
        : h("p", { class: "muted" }, "No events yet."),
    );
  },
};
