// Clusters: one card per cluster with what runs in it.

import * as api from "../api.js";
import { badge, emptyState, h, pageHeader } from "../ui.js";

const stat = (label, value, tone) =>
  h(
    "div",
    { class: `stat ${tone ? `tone-text-${tone}` : ""}`, "data-stat": label.toLowerCase().replaceAll(" ", "-") },
    h("span", { class: "stat-value" }, value),
    h("span", { class: "stat-label" }, label),
  );

export default {
  nav: "clusters",

  load: (_params, signal) => api.clusters(signal),

  interested: (event) => /^berth\.evt\.[^.]+\.(cluster|task|service|instance)\./.test(event.subject),

  render(clusters, ctx) {
    const head = pageHeader("Clusters", "Every cluster of this region, with its instances, services and tasks.");
    if (clusters.length === 0)
      return h(
        "section",
        {},
        head,
        emptyState(
          "No clusters yet.",
          "Create one with the AWS CLI: aws ecs create-cluster --cluster-name demo --endpoint-url …",
        ),
      );
    return h(
      "section",
      {},
      head,
      h(
        "div",
        { class: "cards" },
        clusters.map((c) =>
          h(
            "a",
            {
              class: "card cluster-card",
              href: `#/services/${encodeURIComponent(c.clusterName)}`,
              "data-testid": "cluster-card",
              "data-cluster": c.clusterName,
              onclick: () => ctx.selectCluster(c.clusterName),
            },
            h("div", { class: "card-head" }, h("h2", {}, c.clusterName), badge(c.status)),
            h(
              "div",
              { class: "stats" },
              stat("Services", c.activeServicesCount ?? 0),
              stat("Running tasks", c.runningTasksCount ?? 0, c.runningTasksCount ? "ok" : undefined),
              stat("Pending tasks", c.pendingTasksCount ?? 0, c.pendingTasksCount ? "warn" : undefined),
              stat("Instances", c.registeredContainerInstancesCount ?? 0),
            ),
          ),
        ),
      ),
    );
  },
};
