// A task list a page at a time (ListTasks' nextToken, "Load more"), and the selects above one:
// shared by the tasks list, a service's page and a container instance's page.
//
// How many pages a list shows is kept by its view: a live refresh re-reads the same number of
// pages from the first, so a page loaded stays loaded; another filter or page size starts again at one.

import * as api from "../api.js";
import { h } from "../ui.js";
import { taskTable } from "./task-table.js";

const PAGE_SIZE_KEY = "berth.console.pageSize";
/** The page sizes the ECS console offers in its table preferences; ListTasks takes at most 100. */
const PAGE_SIZES = [10, 25, 50, 100];
const DEFAULT_PAGE_SIZE = 25;
export const STATUS_LABEL = { RUNNING: "Running", STOPPED: "Stopped" };

/** Tasks per page, as last picked on any list. */
function pageSize() {
  const saved = Number(localStorage.getItem(PAGE_SIZE_KEY));
  return PAGE_SIZES.includes(saved) ? saved : DEFAULT_PAGE_SIZE;
}

/** An address's `status` as the desired status to list: STOPPED, or ECS's default RUNNING. */
export const desiredStatus = (query) => (query.get("status")?.toUpperCase() === "STOPPED" ? "STOPPED" : "RUNNING");

export const option = (value, label, selected) => h("option", { value, selected }, label);

/** One labelled select of a filter bar. */
export const filterSelect = (label, attrs, ...options) =>
  h("label", { class: "filter" }, h("span", {}, label), h("select", attrs, ...options));

/** Running or Stopped; `go(status)` shows the list for the one picked (a new address). */
export const statusFilter = (status, go) =>
  filterSelect(
    "Desired status",
    { name: "status", "data-testid": "status-filter", onchange: (e) => go(e.target.value) },
    Object.entries(STATUS_LABEL).map(([value, label]) => option(value, label, value === status)),
  );

/** Tasks per page, for every paged list: picked, it is kept and the page re-read from its first page. */
export const pageSizeFilter = (ctx) =>
  filterSelect(
    "Per page",
    {
      name: "pageSize",
      "data-testid": "page-size",
      onchange: (e) => {
        localStorage.setItem(PAGE_SIZE_KEY, e.target.value);
        ctx.refresh();
      },
    },
    PAGE_SIZES.map((n) => option(String(n), String(n), n === pageSize())),
  );

/**
 * One view's paged task list. `load(cluster, listings, signal)` reads the pages shown of ListTasks over
 * `listings` (filters, read in turn) → {tasks, more, size, pages}; `render(listed, ctx, cluster, {what,
 * …taskTable options})` → the rows and the list's foot, with "Load more" while there is more.
 */
export function taskPaging() {
  /** Pages shown, for the listings and page size of `key`. */
  let shown = { key: "", pages: 1 };
  /**
   * The first row a "Load more" added ({pages, index}): it gets keyboard focus once a list of that
   * many pages is rendered. A live refresh already under way renders fewer pages first: that
   * render leaves it waiting.
   */
  let focusRow;
  return {
    async load(cluster, listings, signal) {
      const size = pageSize();
      const key = JSON.stringify([cluster, listings, size]);
      if (shown.key !== key) shown = { key, pages: 1 };
      const pages = shown.pages;
      return { ...(await api.taskPages(cluster, listings, pages, size, signal)), size, pages };
    },

    render({ tasks, more, size, pages }, ctx, cluster, { what, ...options }) {
      const list = taskTable(tasks, ctx, cluster, options);
      if (focusRow !== undefined && pages >= focusRow.pages) {
        const { index } = focusRow;
        focusRow = undefined;
        requestAnimationFrame(() =>
          list.querySelectorAll('[data-testid="task-row"] [data-testid="task-link"]')[index]?.focus(),
        );
      }
      const loadMore = (e) => {
        e.currentTarget.disabled = true;
        e.currentTarget.textContent = "Loading…";
        shown.pages++;
        focusRow = { pages: shown.pages, index: tasks.length };
        ctx.refresh();
      };
      return [
        list,
        h(
          "div",
          { class: "list-foot" },
          h("span", { class: "muted", "data-testid": "tasks-shown" }, `${tasks.length} ${what} shown`),
          more
            ? h(
                "button",
                { type: "button", class: "btn", "data-action": "load-more", onclick: loadMore },
                `Load ${size} more`,
              )
            : null,
        ),
      ];
    },
  };
}
