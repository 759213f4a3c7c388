// The console's shell: hash routes → views, the cluster picker, live refresh and the event feed.
//
//   stream event ──► feed (always)
//               └──► current view interested? ──► re-fetch through the ECS API (coalesced) ──► re-render
//
// A view is {nav, load(params) → data, render(data, ctx) → Node, interested(event, params) → bool}.

import * as api from "./api.js";
import { CHANGED, credentials, signOut } from "./auth.js";
import { Feed } from "./feed.js";
import { connectLive } from "./live.js";
import { emptyState, h, toast } from "./ui.js";
import clustersView from "./views/clusters.js";
import instancesView from "./views/instances.js";
import serviceView from "./views/service.js";
import servicesView from "./views/services.js";
import tasksView from "./views/tasks.js";

/** Bursts of events (a deployment writes several per task) are folded into one re-fetch. */
const REFRESH_DELAY_MS = 150;
const CLUSTER_KEY = "berth.console.cluster";
/** The page's name in the window title, by navigation section (a service's page: its name). */
const TITLES = { clusters: "Clusters", services: "Services", tasks: "Tasks", instances: "Container instances" };

const main = document.getElementById("main");
const picker = document.getElementById("cluster-select");

const state = {
  view: undefined,
  params: {},
  /** Bumped on every navigation so a slow load for a page already left is dropped. */
  generation: 0,
  loading: false,
  dirty: false,
  timer: undefined,
  clusters: [],
};

/** A route segment as typed: a malformed %-escape is kept as it is (then "not found"), not thrown. */
function decode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decode);
  const [section, cluster, service] = parts;
  const selected = cluster ?? currentCluster();
  switch (section) {
    case "services":
      return service
        ? { view: serviceView, params: { cluster: selected, service } }
        : { view: servicesView, params: { cluster: selected } };
    case "tasks":
      return { view: tasksView, params: { cluster: selected } };
    case "instances":
      return { view: instancesView, params: { cluster: selected } };
    default:
      return { view: clustersView, params: {} };
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
};

async function show() {
  const { view, params } = route();
  state.view = view;
  state.params = params;
  state.generation++;
  if (params.cluster) selectCluster(params.cluster);
  renderPicker();
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.classList.toggle("active", a.dataset.nav === view.nav);
    const section = a.dataset.nav;
    if (section !== "clusters")
      a.href = params.cluster ? `#/${section}/${encodeURIComponent(params.cluster)}` : `#/${section}`;
  }
  document.title = [params.service ?? TITLES[view.nav], params.cluster, "Berth console"].filter(Boolean).join(" · ");
  main.replaceChildren(h("div", { class: "loading" }, "Loading…"));
  await refresh();
  main.focus({ preventScroll: true });
}

/** Re-reads the current page through the API and swaps it in, keeping the scroll position. */
async function refresh() {
  if (state.loading) {
    state.dirty = true;
    return;
  }
  const { view, params, generation } = state;
  state.loading = true;
  try {
    if (view.nav !== "clusters" && !params.cluster) {
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
      node = view.render(await view.load(params), { ...ctx, params });
    } catch (err) {
      node = h(
        "div",
        { class: "load-error", role: "alert" },
        h("p", {}, "Could not load this page."),
        h("p", { class: "muted" }, err.message),
      );
    }
    if (generation !== state.generation) return;
    const scroll = window.scrollY;
    const focused = focusKey(document.activeElement);
    main.replaceChildren(node);
    window.scrollTo({ top: scroll });
    if (focused) refocus(focused);
  } finally {
    state.loading = false;
    if (state.dirty) {
      state.dirty = false;
      scheduleRefresh();
    }
  }
}

/**
 * What names a focused control across a re-render: what it does (its action, link or field name)
 * and the row it is in (task, service, instance, deployment). A live refresh rebuilds the page;
 * focus goes back to the same control, so keyboard users keep their place.
 */
function focusKey(el) {
  if (!(el instanceof HTMLElement) || el === main || !main.contains(el)) return undefined;
  const what = el.dataset.action ?? el.getAttribute("href") ?? el.getAttribute("name");
  if (!what) return undefined;
  const row = el.closest("[data-task],[data-service],[data-instance],[data-deployment]");
  const where = row ? [row.dataset.task, row.dataset.service, row.dataset.instance, row.dataset.deployment].join("/") : "";
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
  // The same section for the newly picked cluster (a service's page goes to that cluster's services).
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
