// Registering a client: a form, then its secret shown once, or, for a client
// that proves itself with a certificate or signed assertions, no secret.

import { call } from "./api.js";
import { authenticationChoice } from "./auth-choice.js";
import { field, h, show, words } from "./dom.js";
import { clearErrors, showError } from "./errors.js";
import { limitFields } from "./limits.js";
import { busy } from "./progress.js";
import { showSecretOnce } from "./secret-dialog.js";

export function newClientPage(view) {
  const fields = {
    clientId: field("Client ID", { name: "client_id", required: true, autocomplete: "off", placeholder: "billing-api" },
      "Letters, digits, dot, dash and underscore; it cannot change later."),
    displayName: field("Display name", { name: "display_name", placeholder: "Billing API" }),
    allowedScopes: field("Allowed scopes", { name: "allowed_scopes", placeholder: "orders.read orders.write" }, "Separated by spaces."),
    defaultScopes: field("Default scopes", { name: "default_scopes" }, "Granted when a request names none; within the allowed scopes."),
    audiences: field("Audiences", { name: "audiences", placeholder: "orders" }, "The services its tokens are for, separated by spaces."),
    tokenTtlSeconds: field("Token lifetime (seconds)", { name: "token_ttl_seconds", type: "number", min: 0 }, "Empty: the server's default."),
  };
  const limits = limitFields();
  Object.assign(fields, limits.fields);
  const auth = authenticationChoice();
  const every = { ...fields, ...auth.fields };
  const formError = h("p", { class: "error", role: "alert", hidden: true });
  const create = h("button", { type: "submit" }, "Create client");
  const submit = async (event) => {
    event.preventDefault();
    clearErrors(every, formError);
    const request = {
      clientId: fields.clientId.input.value.trim(),
      displayName: fields.displayName.input.value.trim(),
      allowedScopes: words(fields.allowedScopes.input.value),
      defaultScopes: words(fields.defaultScopes.input.value),
      audiences: words(fields.audiences.input.value),
      tokenTtlSeconds: fields.tokenTtlSeconds.input.value.trim() || "0",
      ...limits.values(),
      ...auth.request(),
    };
    try {
      const created = await busy("Creating the client…", create, () => call("ClientAdmin/CreateClient", request));
      const id = created.client.clientId;
      const toClient = () => {
        location.hash = `#/clients/${encodeURIComponent(id)}`;
      };
      if (created.clientSecret) showSecretOnce(id, created.clientSecret, toClient);
      else toClient();
    } catch (err) {
      showError(every, formError, err);
    }
  };
  show(view, h("section", { class: "card narrow" },
    h("h1", { id: "new-title" }, "New client"),
    h("p", {}, "A service that gets tokens. A secret is shown once, when it is created; a client with a certificate or a key has none."),
    h("form", { "aria-labelledby": "new-title", onsubmit: submit },
      Object.values(fields).map((f) => f.wrapper), auth.fieldset, formError, create)));
  fields.clientId.input.focus();
}
