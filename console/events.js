// The audit trail: who changed what, newest first, for one client or all,
// of one type of event or all.

import { call } from "./api.js";
import { h, show, when } from "./dom.js";
import { loadFailed } from "./errors.js";
import { busy } from "./progress.js";

/** Every type of event the server writes (a unit test of the server holds this list to its own). */
const TYPES = [
  "client_created", "client_updated", "client_disabled", "client_enabled", "client_deleted", "client_key_added",
  "client_key_removed", "secret_rotated", "key_rotated", "key_retired", "keys_resealed", "token_revoked", "trusted_issuer_added", "trusted_issuer_removed",
  "client_authentication_failed", "throttling_started", "throttling_ended",
];

export function eventsPage(view, wanted = { clientId: "", type: "" }, pageToken = "") {
  const client = h("input", { id: "event-client", type: "search", name: "client_id", value: wanted.clientId });
  const type = h("select", { id: "event-type", name: "type" }, h("option", { value: "" }, "All types"),
    TYPES.map((t) => h("option", { value: t, selected: t === wanted.type }, t)));
  const apply = h("button", { type: "submit" }, "Show");
  const body = h("div", {});
  show(view, h("section", {}, h("h1", {}, "Audit trail"),
    h("form", { class: "row", role: "search", onsubmit: (event) => {
      event.preventDefault();
      eventsPage(view, { clientId: client.value.trim(), type: type.value });
    } }, h("label", { for: "event-client" }, "Client ID"), client, h("label", { for: "event-type" }, "Type"), type, apply),
    body));
  const request = { pageSize: 50, pageToken, clientId: wanted.clientId, types: wanted.type ? [wanted.type] : [] };
  busy("Loading events…", apply, () => call("AuditService/ListEvents", request))
    .then((page) => {
      const events = page.events || [];
      const of = [wanted.type, wanted.clientId && `of ${wanted.clientId}`].filter(Boolean).join(" ");
      show(body, events.length ? h("div", { class: "table-wrap" }, h("table", {},
        h("caption", {}, of ? `Events: ${of}` : "All events"),
        h("thead", {}, h("tr", {}, ["Time", "Event", "Actor", "Target", "Origin", "Details"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, events.map((e) => h("tr", {},
          h("td", {}, when(e.time)), h("td", {}, e.type), h("td", {}, e.actor), h("td", {}, e.target),
          h("td", {}, e.origin), h("td", {}, h("code", { class: "details" }, JSON.stringify(e.details || {})))))))) :
        h("p", { class: "empty" }, "No events."),
      page.nextPageToken ? h("button", { type: "button", class: "quiet", onclick: () => eventsPage(view, wanted, page.nextPageToken) }, "Older events") : null);
    })
    .catch((err) => show(body, h("p", { class: "error", role: "alert" }, loadFailed(err))));
}
