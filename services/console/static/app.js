// The console's shell: hash routes → views, the cluster picker, live refresh and the event feed.
//
//   stream event ──► feed (always)
//               └──► current view interested? ──► re-fetch through the ECS API (coalesced) ──► re-render
//
// A view is {nav, load(params, signal) → data, render(data, ctx) → Node, interested(event, params) → bool},
// optionally title(params) → the window title's page name, and clusterless (it needs no cluster).
// `signal` is aborted when the page is left: the load's requests stop and the next page's start.

import * as api from "./api.js";
import { CHANGED, credentials, signOut } from "./auth.js";
import { Feed } from "./feed.js";
import { connectLive } from "./live.js";
import { emptyState, h, loadError, toast } from "./ui.js";
import clustersView from "./views/clusters.js";
import instanceView from "./views/instance.js";
import instancesView, { instanceHref } from "./views/instances.js";
import serviceView from "./views/service.js";
import servicesView from "./views/services.js";
import taskView from "./views/task.js";
import { desiredStatus } from "./views/task-pages.js";
import taskdefView from "./views/taskdef.js";
import taskdefsView from "./views/taskdefs.js";
import tasksView, { tasksFilter } from "./views/tasks.js";

/** Bursts of events (a deployment writes several per task) are folded into one re-fetch. */
const REFRESH_DELAY_MS = 150;
const CLUSTER_KEY = "berth.console.cluster";
/** The page's name in the window title, by navigation section (a service's page: its name). */
const TITLES = { clusters: "Clusters", services: "Services", tasks: "Tasks", instances: "Container instances" };
/** Navigation sections that belong to the region, not to a cluster: their links carry no cluster. */
const REGIONAL = new Set(["clusters", "taskdefs"]);

const main = document.getElementById("main");
const picker = document.getElementById("cluster-select");

const state = {
  view: undefined,
  params: {},
  /** Bumped on every navigation so a slow load for a page already left is dropped. */
  generation: 0,
  /** The load under way: the generation it is for and its AbortController. */
  load: undefined,
  /** An event asked for the page while its load was under way: it is read again once that ends. */
  dirty: false,
  timer: undefined,
  clusters: [],
  /** The page shown, without its query: a new query on the same page keeps focus and scroll. */
  page: undefined,
};

/** A route segment as typed: a malformed %-escape is kept as it is (then "not found"), not thrown. */
function decode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * `#/<section>/<segments…>?<query>` → the view and its params. Routes:
 *   #/clusters  #/services/<cluster>[/<service>]  #/tasks/<cluster>[?status=&service=|family=]
 *   #/tasks/<cluster>/<taskId>  #/instances/<cluster>[/<instanceId>[?status=]]  #/taskdefs[/<family>[:<revision>]]
 * An old address of the form #/instances/<cluster>?instance=<id> → `{redirect}` to the instance's page.
 */
function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const q = hash.indexOf("?");
  const path = q < 0 ? hash : hash.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : hash.slice(q + 1));
  const [section, first, second] = path.split("/").filter(Boolean).map(decode);
  const page = (view, params) => ({ view, params, page: `${view.nav}|${path}` });
  if (section === "taskdefs") return first ? page(taskdefView, { taskDefinition: first }) : page(taskdefsView, {});
  const cluster = first ?? currentCluster();
  switch (section) {
    case "services":
      return second ? page(serviceView, { cluster, service: second }) : page(servicesView, { cluster });
    case "tasks":
      return second ? page(taskView, { cluster, task: second }) : page(tasksView, { cluster, ...tasksFilter(query) });
    case "instances":
      if (second) return page(instanceView, { cluster, instance: second, status: desiredStatus(query) });
      // The list once marked the instance its address named: that address now opens the instance's page.
      if (query.get("instance")) return { redirect: instanceHref(cluster, query.get("instance")) };
      return page(instancesView, { cluster });
    default:
      return page(clustersView, {});
  }
}

function currentCluster() {
  const saved = localStorage.getItem(CLUSTER_KEY);
  if (saved && state.clusters.some((c) => c.clusterName === saved)) return saved;
  return state.clusters[0]?.clusterName ?? saved ?? undefined;
}

function selectCluster(name) {
  if (!name) return;
  localStorage.setItem(CLUSTER_KEY, name);
}

const ctx = {
  navigate(hash) {
    if (location.hash === hash) refresh();
    else location.hash = hash;
  },
  refresh: () => refresh(),
  selectCluster,
  get clusters() {
    return state.clusters;
  },
  /** The cluster the page shows, or the one last picked on a page of no cluster. */
  get cluster() {
    return state.params.cluster ?? currentCluster();
  },
};

async function show() {
  const next = route();
  if (next.redirect) {
    // In place of the old address, so Back does not lead to it again.
    location.replace(next.redirect);
    return;
  }
  const { view, params, page } = next;
  // Only the query changed (a filter): the page is re-read in place, focus stays on the filter.
  const samePage = page === state.page;
  state.view = view;
  state.params = params;
  state.page = page;
  state.generation++;
  // The page left (or its old query) needs no more answers: its load stops and this one starts now.
  state.load?.controller.abort();
  if (params.cluster) selectCluster(params.cluster);
  renderPicker();
  renderNav();
  document.title = [view.title?.(params) ?? params.service ?? TITLES[view.nav], params.cluster, "Berth console"]
    .filter(Boolean)
    .join(" · ");
  if (samePage) {
    await refresh();
    return;
  }
  main.replaceChildren(h("div", { class: "loading" }, "Loading…"));
  await refresh();
  main.focus({ preventScroll: true });
}

/** Marks the current section; links to a cluster's sections go to the cluster shown or last picked. */
function renderNav() {
  const cluster = state.params.cluster ?? currentCluster();
  for (const a of document.querySelectorAll("[data-nav]")) {
    const section = a.dataset.nav;
    const active = section === state.view?.nav;
    a.classList.toggle("active", active);
    if (active) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
    if (!REGIONAL.has(section)) a.href = cluster ? `#/${section}/${encodeURIComponent(cluster)}` : `#/${section}`;
  }
}

/** Re-reads the current page through the API and swaps it in, keeping the scroll position. */
async function refresh() {
  if (state.load?.generation === state.generation) {
    state.dirty = true;
    return;
  }
  const { view, params, generation } = state;
  const load = { generation, controller: new AbortController() };
  state.load = load;
  state.dirty = false;
  try {
    if (!REGIONAL.has(view.nav) && !params.cluster) {
      main.replaceChildren(
        emptyState(
          "No cluster yet.",
          "Create one with `aws ecs create-cluster --cluster-name NAME --endpoint-url …`; it appears here at once.",
        ),
      );
      return;
    }
    let node;
    try {
      node = view.render(await view.load(params, load.controller.signal), { ...ctx, params });
    } catch (err) {
      node = loadError("Could not load this page.", err);
    }
    if (generation !== state.generation || load.controller.signal.aborted) return;
    const scroll = window.scrollY;
    const focused = focusKey(document.activeElement);
    main.replaceChildren(node);
    window.scrollTo({ top: scroll });
    if (focused) refocus(focused);
  } finally {
    // A load aborted by a navigation leaves the state to the load that replaced it.
    if (state.load === load) {
      state.load = undefined;
      if (state.dirty) {
        state.dirty = false;
        scheduleRefresh();
      }
    }
  }
}

const ROW_KEYS = ["task", "service", "instance", "deployment", "family", "container", "revision"];
const ROWS = ROW_KEYS.map((k) => `[data-${k}]`).join(",");

/**
 * What names a focused control across a re-render: what it does (its action, link or field name)
 * and the row it is in (task, service, instance, deployment). A live refresh rebuilds the page;
 * focus goes back to the same control, so keyboard users keep their place.
 */
function focusKey(el) {
  if (!(el instanceof HTMLElement) || el === main || !main.contains(el)) return undefined;
  const what = el.dataset.action ?? el.getAttribute("href") ?? el.getAttribute("name");
  if (!what) return undefined;
  const row = el.closest(ROWS);
  const where = row ? ROW_KEYS.map((k) => row.dataset[k]).join("/") : "";
  return `${what}|${where}`;
}

function refocus(key) {
  for (const el of main.querySelectorAll("[data-action],a[href],[name]")) {
    if (focusKey(el) === key) {
      el.focus({ preventScroll: true });
      return;
    }
  }
}

function scheduleRefresh() {
  if (state.timer) return;
  state.timer = setTimeout(() => {
    state.timer = undefined;
    void refresh();
  }, REFRESH_DELAY_MS);
}

async function loadClusters() {
  try {
    state.clusters = await api.clusters();
  } catch (err) {
    toast(`Could not list clusters: ${err.message}`, "error");
  }
  renderPicker();
}

function renderPicker() {
  const selected = state.params.cluster ?? currentCluster();
  const names = state.clusters.map((c) => c.clusterName);
  if (selected && !names.includes(selected)) names.push(selected);
  picker.replaceChildren(...names.map((n) => h("option", { value: n, selected: n === selected }, n)));
  picker.disabled = names.length === 0;
}

picker.addEventListener("change", () => {
  selectCluster(picker.value);
  // Task definitions belong to no cluster: stay, with links to the newly picked cluster's pages.
  if (state.view?.clusterless) {
    renderNav();
    void refresh();
    return;
  }
  // The same section for the newly picked cluster (a service's or task's page goes to that cluster's list).
  const section = !state.view || state.view.nav === "clusters" ? "services" : state.view.nav;
  location.hash = `#/${section}/${encodeURIComponent(picker.value)}`;
});

const feed = new Feed(
  document.getElementById("feed"),
  document.getElementById("feed-count"),
  document.getElementById("feed-empty"),
  () => state.params.cluster ?? currentCluster(),
);
const live = document.getElementById("live");

connectLive({
  onEvent(event) {
    feed.add(event);
    if (/\.cluster\./.test(event.subject)) void loadClusters();
    if (state.view?.interested(event, state.params)) scheduleRefresh();
  },
  onResync() {
    void loadClusters();
    scheduleRefresh();
  },
  onStatus({ connected, seq }) {
    live.dataset.state = connected ? "live" : "offline";
    live.querySelector(".label").textContent = connected ? `Live · event ${seq}` : "Reconnecting…";
  },
});

// Who the requests are signed as, when the server requires credentials.
const identity = document.getElementById("identity");
function showIdentity() {
  const c = credentials();
  identity.hidden = !c;
  if (c) identity.querySelector(".label").textContent = `${c.accessKeyId} · ${c.region}`;
}
document.getElementById("sign-out").addEventListener("click", signOut);
window.addEventListener(CHANGED, showIdentity);
showIdentity();

window.addEventListener("hashchange", () => void show());
await loadClusters();
if (!location.hash) location.hash = "#/clusters";
else await show();
