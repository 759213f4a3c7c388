// Tasks of a cluster, as the ECS console lists them: by desired status (Running or Stopped), for
// one service or task-definition family or all, a page at a time (ListTasks' nextToken).
//
// The filter lives in the address (#/tasks/<cluster>?status=STOPPED&service=web), so a reload, a
// link and Back show the same list; its pages are read as task-pages.js keeps them.

import * as api from "../api.js";
import { emptyState, h, loadError, pageHeader } from "../ui.js";
import {
  desiredStatus,
  filterSelect,
  option,
  pageSizeFilter,
  STATUS_LABEL,
  statusFilter,
  taskPaging,
} from "./task-pages.js";

/** Pages shown of the current filter's list. */
const paging = taskPaging();

/** The tasks list's address for a filter; Running, ECS's default, is left out. */
export function tasksHref(cluster, { status, service, family } = {}) {
  const q = new URLSearchParams();
  if (status && status !== "RUNNING") q.set("status", status);
  if (service) q.set("service", service);
  else if (family) q.set("family", family);
  const qs = q.toString();
  return `#/tasks/${encodeURIComponent(cluster)}${qs ? `?${qs}` : ""}`;
}

/** The route's query as this page's filter: `status` RUNNING or STOPPED, one of `service`/`family`. */
export function tasksFilter(query) {
  const service = query.get("service") || undefined;
  return {
    status: desiredStatus(query),
    service,
    family: service ? undefined : query.get("family") || undefined,
  };
}

export default {
  nav: "tasks",

  title: () => "Tasks",

  async load({ cluster, status, service, family }, signal) {
    const filter = { desiredStatus: status, ...(service ? { serviceName: service } : {}), ...(family ? { family } : {}) };
    const [listing, services, families] = await Promise.all([
      // A filter naming a service the cluster never had is ECS's ServiceNotFoundException: shown, not thrown.
      paging.load(cluster, [filter], signal).catch((error) => ({ tasks: [], more: false, error })),
      api
        .listAll("ListServices", { cluster, maxResults: 100 }, "serviceArns", signal)
        .then((arns) => arns.map((a) => String(a).split("/").pop()).sort())
        .catch(() => []),
      api.taskDefinitionFamilies(signal).catch(() => []),
    ]);
    return { listing, services, families };
  },

  interested: (event, { cluster }) =>
    event.subject.includes(`.task.${cluster}.`) ||
    event.subject.includes(`.service.${cluster}.`) ||
    event.subject.includes(".taskdef."),

  render({ listing, services, families }, ctx) {
    const { cluster, status, service, family } = ctx.params;
    const { tasks, more, error } = listing;
    const filters = filterBar(ctx, { services, families });
    const what = `${STATUS_LABEL[status].toLowerCase()} tasks${service ? ` of service ${service}` : ""}${family ? ` of family ${family}` : ""}`;
    const head = pageHeader(
      "Tasks",
      `Cluster ${cluster} · desired status ${STATUS_LABEL[status]}${tasks.length ? ` · ${tasks.length} shown${more ? ", more to load" : ""}` : ""}`,
    );
    // The filter the list shows, as its address's query ("" for every running task).
    const shownFilter = tasksHref(cluster, { status, service, family }).split("?")[1] ?? "";
    const section = (...body) =>
      h("section", { "data-testid": "tasks-page", "data-filter": shownFilter }, head, filters, body);
    if (error)
      return section(
        loadError(`Could not list ${what}.`, error),
        h("p", {}, h("a", { href: tasksHref(cluster, { status }) }, "Show every task instead")),
      );
    if (tasks.length === 0)
      return section(
        emptyState(
          `No ${what}.`,
          status === "STOPPED"
            ? "Stopped tasks stay listed for a while after they stop, as in ECS."
            : "Run one with RunTask, or create a service.",
        ),
      );
    return section(paging.render(listing, ctx, cluster, { what }));
  },
};

/** Desired status, service or family, and page size; each change is a new address (Back undoes it). */
function filterBar(ctx, { services, families }) {
  const { cluster, status, service, family } = ctx.params;
  const go = (next) => ctx.navigate(tasksHref(cluster, { status, service, family, ...next }));
  const scopeValue = service ? `service:${service}` : family ? `family:${family}` : "";
  // A service or family named in the address is offered even when it is not listed (yet or any more).
  const serviceNames = service && !services.includes(service) ? [service, ...services] : services;
  const familyNames = family && !families.includes(family) ? [family, ...families] : families;
  return h(
    "div",
    { class: "filters", role: "group", "aria-label": "Filter tasks" },
    statusFilter(status, (next) => go({ status: next })),
    filterSelect(
      "Service or family",
      {
        name: "scope",
        "data-testid": "scope-filter",
        onchange: (e) => {
          const [kind, ...rest] = e.target.value.split(":");
          const name = rest.join(":") || undefined;
          go({ service: kind === "service" ? name : undefined, family: kind === "family" ? name : undefined });
        },
      },
      option("", "All services and families", !scopeValue),
      serviceNames.length
        ? h(
            "optgroup",
            { label: "Services" },
            serviceNames.map((n) => option(`service:${n}`, n, scopeValue === `service:${n}`)),
          )
        : null,
      familyNames.length
        ? h(
            "optgroup",
            { label: "Task definition families" },
            familyNames.map((n) => option(`family:${n}`, n, scopeValue === `family:${n}`)),
          )
        : null,
    ),
    pageSizeFilter(ctx),
    scopeValue || status !== "RUNNING"
      ? h("a", { class: "filter-clear", href: tasksHref(cluster), "data-action": "clear-filters" }, "Clear filters")
      : null,
  );
}
