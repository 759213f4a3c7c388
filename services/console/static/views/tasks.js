// Tasks of a cluster, as the ECS console lists them: by desired status (Running or Stopped), for
// one service or task-definition family or all, a page at a time (ListTasks' nextToken).
//
// The filter lives in the address (#/tasks/<cluster>?status=STOPPED&service=web), so a reload, a
// link and Back show the same list. How many pages are shown is kept here: a live refresh re-reads
// the same number of pages from the first, so a page loaded stays loaded.

import * as api from "../api.js";
import { emptyState, h, pageHeader } from "../ui.js";
import { taskTable } from "./task-table.js";

const PAGE_SIZE_KEY = "berth.console.pageSize";
/** The page sizes the ECS console offers in its table preferences; ListTasks takes at most 100. */
const PAGE_SIZES = [10, 25, 50, 100];
const DEFAULT_PAGE_SIZE = 25;
const STATUS_LABEL = { RUNNING: "Running", STOPPED: "Stopped" };

function pageSize() {
  const saved = Number(localStorage.getItem(PAGE_SIZE_KEY));
  return PAGE_SIZES.includes(saved) ? saved : DEFAULT_PAGE_SIZE;
}

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
    status: query.get("status")?.toUpperCase() === "STOPPED" ? "STOPPED" : "RUNNING",
    service,
    family: service ? undefined : query.get("family") || undefined,
  };
}

/** Pages shown for the current filter; another filter (or page size) starts again at one. */
let shown = { key: "", pages: 1 };
/** Index of the first row a "Load more" added: it gets keyboard focus once rendered. */
let focusRow;

export default {
  nav: "tasks",

  title: () => "Tasks",

  async load({ cluster, status, service, family }) {
    const size = pageSize();
    const key = JSON.stringify([cluster, status, service, family, size]);
    if (shown.key !== key) shown = { key, pages: 1 };
    const filter = { desiredStatus: status, ...(service ? { serviceName: service } : {}), ...(family ? { family } : {}) };
    const [listing, services, families] = await Promise.all([
      // A filter naming a service the cluster never had is ECS's ServiceNotFoundException: shown, not thrown.
      api.taskPages(cluster, filter, shown.pages, size).catch((error) => ({ tasks: [], more: false, error })),
      api
        .listAll("ListServices", { cluster, maxResults: 100 }, "serviceArns")
        .then((arns) => arns.map((a) => String(a).split("/").pop()).sort())
        .catch(() => []),
      api.taskDefinitionFamilies().catch(() => []),
    ]);
    return { ...listing, services, families, size };
  },

  interested: (event, { cluster }) =>
    event.subject.includes(`.task.${cluster}.`) ||
    event.subject.includes(`.service.${cluster}.`) ||
    event.subject.includes(".taskdef."),

  render({ tasks, more, error, services, families, size }, ctx) {
    const { cluster, status, service, family } = ctx.params;
    const filters = filterBar(ctx, { services, families, size });
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
        h(
          "div",
          { class: "load-error", role: "alert" },
          h("p", {}, `Could not list ${what}.`),
          h("p", { class: "muted" }, error.message),
        ),
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
    const list = taskTable(tasks, ctx, cluster);
    if (focusRow !== undefined) {
      const index = focusRow;
      focusRow = undefined;
      requestAnimationFrame(() => list.querySelectorAll('[data-testid="task-row"] [data-testid="task-link"]')[index]?.focus());
    }
    return section(
      list,
      h(
        "div",
        { class: "list-foot" },
        h("span", { class: "muted", "data-testid": "tasks-shown" }, `${tasks.length} ${what} shown`),
        more
          ? h(
              "button",
              {
                type: "button",
                class: "btn",
                "data-action": "load-more",
                onclick: (e) => {
                  e.currentTarget.disabled = true;
                  e.currentTarget.textContent = "Loading…";
                  shown.pages++;
                  focusRow = tasks.length;
                  ctx.refresh();
                },
              },
              `Load ${size} more`,
            )
          : null,
      ),
    );
  },
};

/** Desired status, service or family, and page size; each change is a new address (Back undoes it). */
function filterBar(ctx, { services, families, size }) {
  const { cluster, status, service, family } = ctx.params;
  const go = (next) => ctx.navigate(tasksHref(cluster, { status, service, family, ...next }));
  const scopeValue = service ? `service:${service}` : family ? `family:${family}` : "";
  // A service or family named in the address is offered even when it is not listed (yet or any more).
  const serviceNames = service && !services.includes(service) ? [service, ...services] : services;
  const familyNames = family && !families.includes(family) ? [family, ...families] : families;
  const option = (value, label, selected) => h("option", { value, selected }, label);
  /** One labelled select of the bar. */
  const filter = (label, attrs, ...options) =>
    h("label", { class: "filter" }, h("span", {}, label), h("select", attrs, ...options));
  return h(
    "div",
    { class: "filters", role: "group", "aria-label": "Filter tasks" },
    filter(
      "Desired status",
      { name: "status", "data-testid": "status-filter", onchange: (e) => go({ status: e.target.value }) },
      Object.entries(STATUS_LABEL).map(([value, label]) => option(value, label, value === status)),
    ),
    filter(
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
    filter(
      "Per page",
      {
        name: "pageSize",
        "data-testid": "page-size",
        onchange: (e) => {
          localStorage.setItem(PAGE_SIZE_KEY, e.target.value);
          ctx.refresh();
        },
      },
      PAGE_SIZES.map((n) => option(String(n), String(n), n === size)),
    ),
    scopeValue || status !== "RUNNING"
      ? h("a", { class: "filter-clear", href: tasksHref(cluster), "data-action": "clear-filters" }, "Clear filters")
      : null,
  );
}
