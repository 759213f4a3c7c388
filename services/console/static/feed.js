// The live event feed beside every page: the newest folded events, each a link to where it shows.

import { parseSubject } from "./live.js";
import { h, shortId } from "./ui.js";

const MAX_ITEMS = 150;

const KIND_LABEL = {
  task: "Task",
  service: "Service",
  instance: "Instance",
  cluster: "Cluster",
  taskdef: "Task definition",
};

/** `TaskContainerChanged` → `Task container changed`. */
const words = (type) =>
  type.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/^(\w)(.*)$/, (_, a, b) => a + b.toLowerCase());

export class Feed {
  /** `selectedCluster()` names the cluster the page shows; events of other clusters say which. */
  constructor(list, count, empty, selectedCluster) {
    this.list = list;
    this.selectedCluster = selectedCluster;
    this.count = count;
    this.empty = empty;
    this.total = 0;
  }

  add(event) {
    const s = parseSubject(event.subject);
    const href =
      s?.kind === "service"
        ? `#/services/${encodeURIComponent(s.cluster)}/${encodeURIComponent(s.id)}`
        : s?.kind === "task"
          ? `#/tasks/${encodeURIComponent(s.cluster)}/${encodeURIComponent(s.id)}`
          : s?.kind === "instance"
            ? `#/instances/${encodeURIComponent(s.cluster)}/${encodeURIComponent(s.id)}`
            : s?.kind === "cluster"
              ? `#/services/${encodeURIComponent(s.cluster)}`
              : s?.kind === "taskdef"
                ? `#/taskdefs/${encodeURIComponent(s.id)}`
                : "#/clusters";
    const time = event.time ? new Date(event.time) : new Date();
    const item = h(
      "li",
      { class: `feed-item kind-${s?.kind ?? "other"}`, "data-seq": event.seq, "data-type": event.type },
      h(
        "a",
        { href },
        h("span", { class: "feed-type" }, words(event.type)),
        h(
          "span",
          { class: "feed-meta" },
          h("time", { datetime: time.toISOString() }, time.toLocaleTimeString([], { hour12: false })),
          " · ",
          KIND_LABEL[s?.kind] ?? "Event",
          " ",
          h("code", {}, shortId(s?.id ?? "", 12)),
          s?.cluster && s.kind !== "cluster" && s.cluster !== this.selectedCluster() ? ` in ${s.cluster}` : null,
        ),
      ),
    );
    this.list.prepend(item);
    while (this.list.childElementCount > MAX_ITEMS) this.list.lastElementChild.remove();
    this.total++;
    this.count.textContent = `${this.total} since opened`;
    this.empty.hidden = true;
  }
}
