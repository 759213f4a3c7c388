// One container instance, as the ECS console's instance page shows it: its status, agent and
// health, where it runs, what it registered and what is left of it, the ports in use, its
// attributes and tags, and the tasks on it (ListTasks by containerInstance and desired status, a
// page at a time). Action: drain or activate it.

import * as api from "../api.js";
import { badge, detail, details, emptyState, h, idOf, notFoundPage, pageHeader, shortId, table, timeCell } from "../ui.js";
import { agentBadge, instanceHref, resource, stateAction, usage } from "./instances.js";
import { pageSizeFilter, STATUS_LABEL, statusFilter, taskPaging } from "./task-pages.js";

/** Pages shown of the instance's tasks. */
const paging = taskPaging();

/** The ports of a PORTS or PORTS_UDP resource (what ECS calls remaining: those in use), in order. */
function ports(i, name) {
  const used = (resource(i.remainingResources, name)?.stringSetValue ?? []).slice().sort((a, b) => a - b);
  return used.length
    ? h(
        "ul",
        { class: "chips" },
        used.map((p) => h("li", {}, h("code", {}, p))),
      )
    : "none";
}

/** The overall status, and each check's with when it last changed (or, without data, was last seen). */
function health(i) {
  const s = i.healthStatus;
  if (!s) return undefined;
  return h(
    "span",
    {},
    badge(s.overallStatus),
    (s.details ?? []).map((d) =>
      h(
        "span",
        { class: "muted small block" },
        `${d.type.replaceAll("_", " ").toLowerCase()}: ${d.status.replaceAll("_", " ")}`,
        d.lastStatusChange ? [" since ", timeCell(d.lastStatusChange)] : null,
        d.lastUpdated ? [" · last heard ", timeCell(d.lastUpdated)] : null,
      ),
    ),
  );
}

/** Attributes with a value in a table; those without (mostly the agent's capabilities) by name. */
function attributes(list) {
  const sorted = list.slice().sort((a, b) => a.name.localeCompare(b.name));
  const valued = sorted.filter((a) => a.value !== undefined && a.value !== null);
  const flags = sorted.filter((a) => a.value === undefined || a.value === null);
  return [
    valued.length
      ? table(
          ["Name", "Value"],
          valued.map((a) =>
            h(
              "tr",
              { "data-attribute": a.name },
              h("td", {}, h("code", {}, a.name)),
              h("td", {}, h("code", {}, a.value)),
            ),
          ),
          { class: "attributes" },
        )
      : null,
    flags.length
      ? h(
          "div",
          { class: "panel attribute-flags" },
          h("p", { class: "muted small" }, "Without a value:"),
          h(
            "ul",
            { class: "chips" },
            flags.map((a) => h("li", { "data-attribute": a.name }, h("code", { class: "wrap" }, a.name))),
          ),
        )
      : null,
  ];
}

export default {
  nav: "instances",

  title: ({ instance }) => `Instance ${shortId(instance, 12)}`,

  async load({ cluster, instance, status }, signal) {
    const found = await api.instance(cluster, instance, signal);
    if (!found.instance) return found;
    // Once the instance is known: ListTasks refuses an identifier that is not an instance's.
    const listing = await paging.load(
      cluster,
      [{ containerInstance: found.instance.containerInstanceArn, desiredStatus: status }],
      signal,
    );
    return { ...found, listing };
  },

  interested: (event, { cluster, instance }) =>
    event.subject.endsWith(`.instance.${cluster}.${instance}`) || event.subject.includes(`.task.${cluster}.`),

  render({ instance: i, missing, listing }, ctx) {
    const { cluster, instance, status } = ctx.params;
    const back = h(
      "a",
      { class: "crumb", href: `#/instances/${encodeURIComponent(cluster)}` },
      `← Container instances of ${cluster}`,
    );
    if (!i)
      return notFoundPage(
        { "data-testid": "instance-not-found", "data-instance": instance },
        back,
        `Container instance ${instance}`,
        `Container instance not found in cluster ${cluster}.`,
        `DescribeContainerInstances answers ${missing}: the cluster has no instance of that id.`,
      );
    const id = idOf(i.containerInstanceArn);
    const az = i.attributes?.find((a) => a.name === "ecs.availability-zone")?.value;
    const what = `${STATUS_LABEL[status].toLowerCase()} tasks`;
    const head = pageHeader(
      h("span", { class: "wrap" }, `Instance ${id}`),
      h("span", {}, badge(i.status), " ", agentBadge(i), " · ", h("code", { class: "wrap" }, i.containerInstanceArn)),
      [stateAction(ctx, cluster, i)],
    );
    return h(
      "section",
      { "data-testid": "instance-page", "data-instance": id, "data-status": i.status },
      back,
      head,
      h("h2", { class: "section-title" }, "Overview"),
      details(
        detail("Status", badge(i.status), { "data-field": "status" }),
        detail("Agent", agentBadge(i), { "data-field": "agentConnected" }),
        detail("Health", health(i), { "data-field": "health" }),
        detail("EC2 instance", i.ec2InstanceId ? h("code", {}, i.ec2InstanceId) : undefined, {
          "data-field": "ec2InstanceId",
        }),
        detail("Availability zone", az, { "data-field": "availabilityZone" }),
        i.capacityProviderName ? detail("Capacity provider", i.capacityProviderName) : null,
        detail("Agent version", i.versionInfo?.agentVersion, { "data-field": "agentVersion" }),
        // ECS's agents report it as "DockerVersion: 25.0.3".
        detail("Docker version", i.versionInfo?.dockerVersion?.replace(/^DockerVersion:\s*/, ""), {
          "data-field": "dockerVersion",
        }),
        detail("Registered", i.registeredAt ? timeCell(i.registeredAt) : undefined, { "data-field": "registeredAt" }),
        detail("Running tasks", i.runningTasksCount ?? 0, { "data-field": "runningTasksCount" }),
        detail("Pending tasks", i.pendingTasksCount ?? 0, { "data-field": "pendingTasksCount" }),
      ),
      h("h2", { class: "section-title" }, "Resources"),
      details(
        detail("CPU", usage(i, "CPU", "CPU units"), { "data-field": "cpu" }),
        detail("Memory", usage(i, "MEMORY", "MiB"), { "data-field": "memory" }),
        detail("TCP ports in use", ports(i, "PORTS"), { "data-field": "ports" }),
        detail("UDP ports in use", ports(i, "PORTS_UDP"), { "data-field": "portsUdp" }),
      ),
      h("h2", { class: "section-title" }, "Tasks"),
      h(
        "div",
        { class: "filters", role: "group", "aria-label": "Filter the instance's tasks" },
        statusFilter(status, (next) => ctx.navigate(instanceHref(cluster, instance, { status: next }))),
        pageSizeFilter(ctx),
      ),
      listing.tasks.length
        ? paging.render(listing, ctx, cluster, { what, showInstance: false })
        : emptyState(
            `No ${what} on this instance.`,
            status === "STOPPED" ? "Stopped tasks stay listed for a while after they stop, as in ECS." : null,
          ),
      h("h2", { class: "section-title" }, "Attributes"),
      attributes(i.attributes ?? []),
      h("h2", { class: "section-title" }, "Tags"),
      i.tags?.length
        ? details(...i.tags.map((tag) => detail(tag.key, tag.value)))
        : h("p", { class: "muted" }, "No tags."),
    );
  },
};
