// Small DOM and formatting helpers shared by the views. No framework: views build nodes with h().

/**
 * Creates an element. `attrs`: `class`, `data-*`, `aria-*` and plain attributes as strings;
 * `on<event>` as functions; a `false`/`null`/`undefined` value leaves the attribute out.
 * Children: nodes, strings, numbers, arrays of them; null/undefined/false are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === "value") el.value = v;
    // Through CSSOM, which the page's Content-Security-Policy allows (style attributes it does not).
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** The last path segment of an ARN (a task, instance or service id). */
export const idOf = (arn) =>
  String(arn ?? "")
    .split("/")
    .pop();

/** `arn:…:task-definition/web:3` → `web:3`. */
export const taskDefName = (arn) =>
  String(arn ?? "")
    .split("/")
    .pop();

export const shortId = (id, n = 8) => (id && id.length > n + 2 ? id.slice(0, n) : id);

/** Epoch seconds (the API's timestamps) → local time; today's times without the date. */
export function fmtTime(seconds) {
  if (seconds === undefined || seconds === null) return "";
  const d = new Date(seconds * 1000);
  const today = new Date().toDateString() === d.toDateString();
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  return today ? time : `${d.toLocaleDateString([], { month: "short", day: "numeric" })} ${time}`;
}

export function fullTime(seconds) {
  return seconds === undefined || seconds === null ? "" : new Date(seconds * 1000).toLocaleString();
}

export const timeCell = (seconds) =>
  h(
    "time",
    { datetime: seconds ? new Date(seconds * 1000).toISOString() : false, title: fullTime(seconds) },
    fmtTime(seconds),
  );

const TONES = {
  RUNNING: "ok",
  ACTIVE: "ok",
  COMPLETED: "ok",
  HEALTHY: "ok",
  OK: "ok",
  PRIMARY: "info",
  IN_PROGRESS: "info",
  PROVISIONING: "warn",
  INITIALIZING: "warn",
  PENDING: "warn",
  ACTIVATING: "warn",
  DRAINING: "warn",
  DEACTIVATING: "warn",
  STOPPING: "warn",
  DEPROVISIONING: "warn",
  FAILED: "bad",
  UNHEALTHY: "bad",
  IMPAIRED: "bad",
  DISCONNECTED: "bad",
  STOPPED: "off",
  INACTIVE: "off",
  SUCCESSFUL: "ok",
  ROLLBACK_IN_PROGRESS: "warn",
  ROLLBACK_SUCCESSFUL: "warn",
  ROLLBACK_FAILED: "bad",
};

/** A status pill coloured by what the status means (running, in progress, attention, failed, gone). */
export function badge(status, extra = {}) {
  return h(
    "span",
    { class: `badge tone-${TONES[status] ?? "off"}`, ...extra },
    String(status ?? "—").replaceAll("_", " "),
  );
}

/** A horizontal bar: `parts` are [{value, tone, label}] over `total`. */
export function bar(parts, total, label) {
  const sum = Math.max(
    total,
    parts.reduce((n, p) => n + p.value, 0),
    1,
  );
  return h(
    "div",
    { class: "bar", role: "img", "aria-label": label },
    parts
      .filter((p) => p.value > 0)
      .map((p) =>
        h("span", { class: `bar-seg tone-${p.tone}`, style: { width: `${(100 * p.value) / sum}%` }, title: p.label }),
      ),
  );
}

export function emptyState(title, hint) {
  return h(
    "div",
    { class: "empty" },
    h("p", { class: "empty-title" }, title),
    hint ? h("p", { class: "muted" }, hint) : null,
  );
}

/** A page for something that does not exist: the way back, what was asked for, and what the API answered. */
export function notFoundPage(attrs, back, title, message, hint) {
  return h("section", attrs, back, h("h1", { class: "wrap" }, title), emptyState(message, hint));
}

/** In place of what could not be read: what it was, and why (the API's error). */
export function loadError(what, err) {
  return h("div", { class: "load-error", role: "alert" }, h("p", {}, what), h("p", { class: "muted" }, err.message));
}

export function pageHeader(title, subtitle, actions = []) {
  return h(
    "div",
    { class: "page-head" },
    h("div", {}, h("h1", {}, title), subtitle ? h("p", { class: "muted subtitle" }, subtitle) : null),
    h("div", { class: "actions" }, actions),
  );
}

export function button(label, onClick, opts = {}) {
  return h(
    "button",
    {
      type: "button",
      class: `btn ${opts.kind ?? ""}`.trim(),
      onclick: onClick,
      "data-action": opts.action,
      title: opts.title,
      "aria-label": opts.ariaLabel,
    },
    label,
  );
}

const TOAST_MS = 4000;
const MAX_TOASTS = 3;

/** Shows a short message in the corner; errors stay until dismissed. */
export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  const close = h(
    "button",
    { type: "button", class: "toast-close", "aria-label": "Dismiss", onclick: () => item.remove() },
    "×",
  );
  const item = h(
    "div",
    { class: `toast toast-${kind}`, "data-testid": `toast-${kind}` },
    h("span", {}, message),
    close,
  );
  box.append(item);
  if (kind !== "error") setTimeout(() => item.remove(), TOAST_MS);
  // The newest few are enough; older ones make way.
  while (box.childElementCount > MAX_TOASTS) box.firstElementChild.remove();
}

/**
 * Opens a modal dialog with a form (a new <dialog> each time, so one can open over another, e.g. a
 * sign-in over a form). `submit(form)` runs on submit; its error is shown in the dialog, which
 * stays open so nothing typed is lost. `onCancel` runs when it is closed without a submit.
 */
export function openDialog({ title, body, submitLabel, submit, danger = false, onCancel }) {
  const dialog = h("dialog", { class: "dialog" });
  let submitted = false;
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const submitBtn = h(
    "button",
    { type: "submit", class: `btn ${danger ? "danger" : "primary"}`, "data-action": "submit" },
    submitLabel,
  );
  const form = h(
    "form",
    {
      class: "dialog-form",
      onsubmit: async (e) => {
        e.preventDefault();
        error.hidden = true;
        submitBtn.disabled = true;
        try {
          await submit(form);
          submitted = true;
          dialog.close();
        } catch (err) {
          error.textContent = err.message;
          error.hidden = false;
        } finally {
          submitBtn.disabled = false;
        }
      },
    },
    h("h2", {}, title),
    body,
    error,
    h(
      "div",
      { class: "dialog-actions" },
      h("button", { type: "button", class: "btn", "data-action": "cancel", onclick: () => dialog.close() }, "Cancel"),
      submitBtn,
    ),
  );
  dialog.append(form);
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (!submitted) onCancel?.();
  });
  document.body.append(dialog);
  dialog.showModal();
  form.querySelector("input, select")?.focus();
  return dialog;
}

export function field(label, control, hint) {
  return h(
    "label",
    { class: "field" },
    h("span", { class: "field-label" }, label),
    control,
    hint ? h("span", { class: "field-hint" }, hint) : null,
  );
}

/** A term and its value in a details grid; an absent value shows as a dash. */
export function detail(term, value, attrs = {}) {
  const empty = value === undefined || value === null || value === "";
  return h("div", { class: "detail", ...attrs }, h("dt", {}, term), h("dd", {}, empty ? "—" : value));
}

/** A grid of `detail`s (a description list). */
export const details = (...items) => h("dl", { class: "details" }, items);

/** A table with a header row; `rows` are <tr> nodes. */
export function table(headers, rows, attrs = {}) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      attrs,
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((x) => h("th", {}, x)),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}
