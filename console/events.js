// The audit trail: who changed what, newest first, for one client or all.

import { call } from "./api.js";
import { h, show, when } from "./dom.js";
import { loadFailed } from "./errors.js";
import { busy } from "./progress.js";

export function eventsPage(view, clientId = "", pageToken = "") {
  const filter = h("input", { id: "event-client", type: "search", name: "client_id", value: clientId });
  const apply = h("button", { type: "submit" }, "Show");
  const body = h("div", {});
  show(view, h("section", {}, h("h1", {}, "Audit trail"),
    h("form", { class: "row", role: "search", onsubmit: (event) => {
      event.preventDefault();
      eventsPage(view, filter.value.trim());
    } }, h("label", { for: "event-client" }, "Client ID"), filter, apply),
    body));
  busy("Loading events…", apply, () => call("AuditService/ListEvents", { pageSize: 50, pageToken, clientId }))
    .then((page) => {
      const events = page.events || [];
      show(body, events.length ? h("div", { class: "table-wrap" }, h("table", {},
        h("caption", {}, clientId ? `Events of ${clientId}` : "All events"),
        h("thead", {}, h("tr", {}, ["Time", "Event", "Actor", "Target", "Origin", "Details"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, events.map((e) => h("tr", {},
          h("td", {}, when(e.time)), h("td", {}, e.type), h("td", {}, e.actor), h("td", {}, e.target),
          h("td", {}, e.origin), h("td", {}, h("code", { class: "details" }, JSON.stringify(e.details || {})))))))) :
        h("p", { class: "empty" }, "No events."),
      page.nextPageToken ? h("button", { type: "button", class: "quiet", onclick: () => eventsPage(view, clientId, page.nextPageToken) }, "Older events") : null);
    })
    .catch((err) => show(body, h("p", { class: "error", role: "alert" }, loadFailed(err))));
}
