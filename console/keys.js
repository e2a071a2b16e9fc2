// The signing keys: what the JWKS publishes and which key signs (read only;
// `tokend keys` rotates and retires them).

import { call } from "./api.js";
import { h, show, when } from "./dom.js";
import { loadFailed } from "./errors.js";
import { busy } from "./progress.js";

const STATES = { SIGNING: "signing", PENDING: "published, signs soon", VERIFYING: "verifies older tokens" };

export function keysPage(view) {
  const body = h("div", {}, h("p", {}, "Loading the signing keys…"));
  show(view, h("section", {}, h("h1", {}, "Signing keys"),
    h("p", {}, "Rotate and retire keys with the tokend keys command on the server."), body));
  busy("Loading the signing keys…", null, () => call("ClientAdmin/ListSigningKeys", {}))
    .then((answer) => show(body, h("div", { class: "table-wrap" }, h("table", {},
      h("caption", {}, "Keys, newest first"),
      h("thead", {}, h("tr", {}, ["Key ID (kid)", "Algorithm", "Created", "Signs from", "State"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, (answer.signingKeys || []).map((key) => h("tr", {},
        h("td", {}, h("code", {}, key.kid)), h("td", {}, key.algorithm), h("td", {}, when(key.createTime)),
        h("td", {}, when(key.activeTime)), h("td", {}, STATES[key.state] || key.state))))))))
    .catch((err) => show(body, h("p", { class: "error", role: "alert" }, loadFailed(err))));
}
