// The clients page: every registered client, found by id prefix, a page at a time.

import { call } from "./api.js";
import { h, show, when } from "./dom.js";
import { loadFailed } from "./errors.js";
import { busy } from "./progress.js";

const PAGE_SIZE = 20;

/** What the table says of a client's secrets: the soonest expiry, else the latest use. */
function secretSummary(secrets) {
  const expiring = secrets.map((s) => s.expireTime).filter(Boolean).sort();
  if (expiring.length) return `expires ${when(expiring[0])}`;
  const used = secrets.map((s) => s.lastUsedTime).filter(Boolean).sort().reverse();
  return used.length ? `used ${when(used[0])}` : "never used";
}

export function clientsPage(view, prefix = "", pageToken = "", earlier = []) {
  const search = h("input", { id: "client-search", type: "search", name: "prefix", value: prefix, placeholder: "billing-" });
  const searchButton = h("button", { type: "submit" }, "Search");
  const form = h("form", { class: "row", role: "search", onsubmit: (event) => {
    event.preventDefault();
    clientsPage(view, search.value.trim());
  } }, h("label", { for: "client-search" }, "Client ID starts with"), search, searchButton);
  const body = h("div", {});
  show(view, h("section", {},
    h("div", { class: "title-row" }, h("h1", {}, "Clients"), h("a", { class: "button", href: "#/new" }, "New client")),
    form, body));

  busy("Loading clients…", searchButton, () =>
    call("ClientAdmin/ListClients", { pageSize: PAGE_SIZE, pageToken, clientIdPrefix: prefix }))
    .then((page) => {
      const clients = page.clients || [];
      const rows = clients.map((client) => h("tr", {},
        h("td", {}, h("a", { href: `#/clients/${encodeURIComponent(client.clientId)}` }, client.clientId)),
        h("td", {}, client.displayName || "—"),
        h("td", {}, client.active ? "active" : h("span", { class: "badge off" }, "disabled")),
        h("td", {}, (client.allowedScopes || []).join(" ") || "—"),
        h("td", { class: "number" }, (client.secrets || []).length),
        h("td", {}, secretSummary(client.secrets || []))));
      const table = clients.length
        ? h("div", { class: "table-wrap" }, h("table", {},
          h("caption", {}, prefix ? `Clients whose ID starts with “${prefix}”` : "All clients"),
          h("thead", {}, h("tr", {}, ["Client ID", "Name", "State", "Allowed scopes", "Secrets", "Secret expiry or last use"]
            .map((title) => h("th", { scope: "col" }, title)))),
          h("tbody", {}, rows)))
        : h("p", { class: "empty" }, prefix ? `No client ID starts with “${prefix}”.` : "No clients yet.");
      const paging = h("div", { class: "row" },
        earlier.length ? h("button", { type: "button", class: "quiet", onclick: () =>
          clientsPage(view, prefix, earlier[earlier.length - 1], earlier.slice(0, -1)) }, "Previous page") : null,
        page.nextPageToken ? h("button", { type: "button", class: "quiet", onclick: () =>
          clientsPage(view, prefix, page.nextPageToken, [...earlier, pageToken]) }, "Next page") : null);
      show(body, table, paging);
    })
    .catch((err) => show(body, h("p", { class: "error", role: "alert" }, loadFailed(err))));
}
