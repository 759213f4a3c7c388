// Credentials for a server that requires SigV4. Without credentials configured on the server the
// console sends unsigned requests (open development mode) and none of this is used.
//
// Keys live in sessionStorage: they last as long as the tab and are never sent anywhere but as a
// signature (the secret itself never leaves the page).

import { field, h, openDialog } from "./ui.js";

const KEY = "berth.console.credentials";
/** Dispatched on window when the credentials change. */
export const CHANGED = "berth:credentials";

/** ECS's answers to a request that is unsigned or signed with an unknown or wrong key. */
export const AUTH_ERRORS = new Set([
  "MissingAuthenticationTokenException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "IncompleteSignatureException",
  "InvalidClientTokenId",
]);

export function credentials() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? "null");
  } catch {
    return null;
  }
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  location.reload();
}

let pending;

/**
 * Asks for an access key once, however many requests are waiting for it. Resolves with the
 * credentials; rejects if the person cancels.
 */
export function signIn(reason) {
  pending ??= new Promise((resolve, reject) => {
    const saved = credentials() ?? {};
    const id = h("input", {
      name: "accessKeyId",
      required: true,
      autocomplete: "username",
      value: saved.accessKeyId ?? "",
      "data-testid": "signin-key",
    });
    const secret = h("input", {
      name: "secretAccessKey",
      type: "password",
      required: true,
      autocomplete: "current-password",
      "data-testid": "signin-secret",
    });
    const token = h("input", { name: "sessionToken", autocomplete: "off" });
    const region = h("input", {
      name: "region",
      required: true,
      pattern: "[a-z0-9\\-]+",
      value: saved.region ?? "us-east-1",
      "data-testid": "signin-region",
    });
    openDialog({
      title: "Sign in to Berth",
      body: [
        h(
          "p",
          { class: "muted" },
          reason ?? "This Berth requires signed requests. Use an access key from its credentials file.",
        ),
        field("Access key ID", id),
        field("Secret access key", secret, "Kept in this tab only; requests are signed in the page."),
        h(
          "div",
          { class: "field-row" },
          field("Session token", token, "Only for temporary keys."),
          field("Region", region),
        ),
      ],
      submitLabel: "Sign in",
      async submit() {
        const c = { accessKeyId: id.value.trim(), secretAccessKey: secret.value, region: region.value.trim() };
        if (token.value.trim()) c.sessionToken = token.value.trim();
        sessionStorage.setItem(KEY, JSON.stringify(c));
        window.dispatchEvent(new Event(CHANGED));
        pending = undefined;
        resolve(c);
      },
      onCancel() {
        pending = undefined;
        reject(new Error("Sign-in cancelled."));
      },
    });
  });
  return pending;
}
