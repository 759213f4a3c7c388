// Task definition families with an active revision, each with its newest one
// (ListTaskDefinitionFamilies and ListTaskDefinitions, ACTIVE).

import * as api from "../api.js";
import { emptyState, h, pageHeader, table, taskDefName } from "../ui.js";

/** `#/taskdefs/family:revision` (a family's name and a revision need no escaping but the colon's). */
export const taskDefHref = (ref) => `#/taskdefs/${encodeURIComponent(ref).replaceAll("%3A", ":")}`;

export default {
  nav: "taskdefs",

  /** Task definitions belong to the region, not to a cluster. */
  clusterless: true,

  title: () => "Task definitions",

  async load(_params, signal) {
    const [families, arns] = await Promise.all([api.taskDefinitionFamilies(signal), api.taskDefinitions(signal)]);
    // Newest first: the first revision seen of a family is its latest active one.
    const byFamily = new Map();
    for (const arn of arns) {
      const [family] = taskDefName(arn).split(":");
      const f = byFamily.get(family) ?? { latest: taskDefName(arn), count: 0 };
      f.count++;
      byFamily.set(family, f);
    }
    return families.map((family) => ({ family, ...(byFamily.get(family) ?? { latest: undefined, count: 0 }) }));
  },

  interested: (event) => event.subject.includes(".taskdef."),

  render(families) {
    const head = pageHeader("Task definitions", "Families with an active revision, and each one's newest revision.");
    if (families.length === 0)
      return h(
        "section",
        { "data-testid": "taskdefs-page" },
        head,
        emptyState("No task definitions.", "Register one with RegisterTaskDefinition (aws ecs register-task-definition)."),
      );
    const rows = families.map((f) =>
      h(
        "tr",
        { "data-testid": "family-row", "data-family": f.family },
        h("td", {}, f.latest ? h("a", { href: taskDefHref(f.latest), class: "strong" }, f.family) : f.family),
        h("td", {}, f.latest ? h("a", { href: taskDefHref(f.latest) }, h("code", {}, f.latest)) : "—"),
        h("td", { class: "num" }, f.count),
      ),
    );
    return h(
      "section",
      { "data-testid": "taskdefs-page" },
      head,
      table(["Family", "Latest revision", "Active revisions"], rows, { class: "families" }),
    );
  },
};
