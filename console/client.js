// One client: every field, its secrets, and what an administrator does to it:
// edit (how it authenticates too), disable or enable, rotate the secret, delete.

import { call } from "./api.js";
import { AUTH_FIELDS, authenticationChoice } from "./auth-choice.js";
import { field, fieldError, h, show, when, words } from "./dom.js";
import { clearErrors, loadFailed, showError } from "./errors.js";
import { limitFields } from "./limits.js";
import { busy } from "./progress.js";
import { showSecretOnce } from "./secret-dialog.js";

const list = (values) => (values && values.length ? values.join(" ") : "—");

/** Every field of the client, as a definition list. */
function facts(client) {
  const rows = [
    ["Client ID", client.clientId],
    ["Display name", client.displayName || "—"],
    ["State", client.active ? "active" : "disabled"],
    ["Allowed scopes", list(client.allowedScopes)],
    ["Default scopes", list(client.defaultScopes)],
    ["Audiences", list(client.audiences)],
    ["Token lifetime", client.tokenTtlSeconds ? `${client.tokenTtlSeconds} s` : "server default"],
    ["Authentication methods", list(client.tokenEndpointAuthMethods)],
    ["Created", when(client.createTime)],
    ["Updated", when(client.updateTime)],
  ];
  const optional = [
    ["Certificate subject DN", client.tlsClientAuthSubjectDn],
    ["Certificate SAN (DNS)", client.tlsClientAuthSanDns],
    ["Certificate SAN (URI)", client.tlsClientAuthSanUri],
    ["Certificate-bound tokens", client.tlsClientCertificateBoundAccessTokens ? "yes" : ""],
    ["DPoP-bound tokens", client.dpopBoundAccessTokens ? "yes" : ""],
    ["JWKS URI", client.jwksUri],
    ["JWKS", client.jwks],
    ["Rate limit", client.rateLimitPerSecond
      ? `${client.rateLimitPerSecond}/s, burst ${client.rateLimitBurst || client.rateLimitPerSecond}` : ""],
    ["Secret maximum age", client.secretMaxAgeSeconds ? `${client.secretMaxAgeSeconds} s` : ""],
    ["Token exchange audiences", (client.tokenExchangeAudiences || []).join(" ")],
    ["Transaction Token requester", client.txnTokenRequester ? "yes" : ""],
    ["Grant types", (client.grantTypes || []).join(" ")],
    ["Federated identities", (client.federatedIdentities || []).map((f) => `${f.issuer} → ${f.subject}`).join("; ")],
    ["Claims", client.claims && Object.keys(client.claims).length ? JSON.stringify(client.claims) : ""],
  ];
  const all = rows.concat(optional.filter(([, value]) => value));
  return h("dl", { class: "facts" }, all.map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]));
}

function secretsTable(secrets) {
  if (!secrets.length) return h("p", { class: "empty" }, "This client has no secret (it authenticates another way).");
  return h("div", { class: "table-wrap" }, h("table", {},
    h("caption", {}, "Secrets"),
    h("thead", {}, h("tr", {}, ["Secret ID", "Created", "Expires", "Last used"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, secrets.map((s) => h("tr", {},
      h("td", {}, h("code", {}, s.secretId)), h("td", {}, when(s.createTime)),
      h("td", {}, s.expireTime ? when(s.expireTime) : "never"), h("td", {}, s.lastUsedTime ? when(s.lastUsedTime) : "never"))))));
}

/** The edit form: only what changed goes in the update mask. */
function editForm(client, reload) {
  const fields = {
    displayName: field("Display name", { name: "display_name", value: client.displayName || "" }),
    allowedScopes: field("Allowed scopes", { name: "allowed_scopes", value: list(client.allowedScopes).replace("—", "") }, "Separated by spaces."),
    defaultScopes: field("Default scopes", { name: "default_scopes", value: list(client.defaultScopes).replace("—", "") }, "Granted when a request names none; within the allowed scopes."),
    audiences: field("Audiences", { name: "audiences", value: list(client.audiences).replace("—", "") }, "The services its tokens are for, separated by spaces."),
    tokenTtlSeconds: field("Token lifetime (seconds)", { name: "token_ttl_seconds", type: "number", min: 0, value: client.tokenTtlSeconds || "" }, "Empty or 0: the server's default."),
    tokenExchangeAudiences: field("Token exchange audiences", { name: "token_exchange_audiences", value: (client.tokenExchangeAudiences || []).join(" ") },
      "Audiences it may exchange other clients' tokens for (RFC 8693), separated by spaces; empty: only its own tokens."),
    grantTypes: field("Grant types", { name: "grant_types", value: (client.grantTypes || []).join(" ") },
      "The grants it may use, separated by spaces: client_credentials, urn:ietf:params:oauth:grant-type:jwt-bearer; empty: client_credentials."),
    txnTokenRequester: field("Transaction Token requester", { name: "txn_token_requester", type: "checkbox", checked: Boolean(client.txnTokenRequester) },
      "May ask for Transaction Tokens for the call chains behind it (an edge gateway), and replace one it holds."),
    claims: field("Claims", { name: "claims", rows: 4, spellcheck: "false" }, 'A JSON object added to every token it gets, e.g. {"tenant": "acme"}; empty: none.'),
  };
  const currentClaims = client.claims || {};
  fields.claims.input.value = Object.keys(currentClaims).length ? JSON.stringify(currentClaims, null, 2) : "";
  const limits = limitFields(client);
  Object.assign(fields, limits.fields);
  const auth = authenticationChoice(client);
  const every = { ...fields, ...auth.fields };
  const formError = h("p", { class: "error", role: "alert", hidden: true });
  const saved = h("p", { class: "notice", role: "status" });
  const save = h("button", { type: "submit" }, "Save changes");
  const submit = async (event) => {
    event.preventDefault();
    clearErrors(every, formError);
    saved.textContent = "";
    const claims = claimsIn(fields.claims.input.value);
    if (!claims) {
      fieldError(fields.claims, "Claims must be a JSON object, such as {\"tenant\": \"acme\"}.");
      fields.claims.input.focus();
      return;
    }
    const next = {
      displayName: fields.displayName.input.value.trim(),
      allowedScopes: words(fields.allowedScopes.input.value),
      defaultScopes: words(fields.defaultScopes.input.value),
      audiences: words(fields.audiences.input.value),
      tokenTtlSeconds: fields.tokenTtlSeconds.input.value.trim() || "0",
      tokenExchangeAudiences: words(fields.tokenExchangeAudiences.input.value),
      txnTokenRequester: fields.txnTokenRequester.input.checked,
      grantTypes: words(fields.grantTypes.input.value),
      claims,
      ...limits.values(),
    };
    const before = {
      displayName: client.displayName || "", allowedScopes: client.allowedScopes || [],
      defaultScopes: client.defaultScopes || [], audiences: client.audiences || [], tokenTtlSeconds: client.tokenTtlSeconds || "0",
      tokenExchangeAudiences: client.tokenExchangeAudiences || [], txnTokenRequester: Boolean(client.txnTokenRequester),
      grantTypes: client.grantTypes || [],
      claims: currentClaims,
      rateLimitPerSecond: client.rateLimitPerSecond || 0, rateLimitBurst: client.rateLimitBurst || 0,
      secretMaxAgeSeconds: client.secretMaxAgeSeconds || "0",
    };
    const changed = Object.keys(next).filter((key) => JSON.stringify(next[key]) !== JSON.stringify(before[key]));
    // How it authenticates changes as a whole: every one of its fields goes in the mask.
    const authentication = auth.changed() ? auth.request() : null;
    if (!changed.length && !authentication) {
      saved.textContent = "Nothing changed.";
      return;
    }
    const count = changed.length + (authentication ? 1 : 0);
    const needsSecret = authentication?.tokenEndpointAuthMethods.includes("client_secret_basic") && !(client.secrets || []).length;
    try {
      await busy("Saving…", save, () => call("ClientAdmin/UpdateClient", {
        client: { clientId: client.clientId, ...Object.fromEntries(changed.map((key) => [key, next[key]])), ...authentication },
        updateMask: changed.concat(authentication ? AUTH_FIELDS : []).join(","),
      }));
      const said = `Saved: ${count} field${count > 1 ? "s" : ""} changed.`;
      reload(needsSecret ? `${said} It has no secret yet: rotate one below.` : said);
    } catch (err) {
      showError(every, formError, err);
    }
  };
  return h("form", { class: "card", "aria-labelledby": "edit-title", onsubmit: submit },
    h("h2", { id: "edit-title" }, "Edit"), Object.values(fields).map((f) => f.wrapper), auth.fieldset, formError,
    h("div", { class: "row" }, save, saved));
}

/** The claims a form's text holds: a JSON object, `{}` for none, `null` for anything else. */
function claimsIn(text) {
  if (!text.trim()) return {};
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function actions(client, view, reload) {
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const fail = (err) => {
    error.textContent = err.message;
    error.hidden = false;
  };
  const toggle = h("button", { type: "button", class: client.active ? "danger" : "" }, client.active ? "Disable client" : "Enable client");
  toggle.addEventListener("click", async () => {
    error.hidden = true;
    try {
      await busy(client.active ? "Disabling…" : "Enabling…", toggle, () => call("ClientAdmin/UpdateClient", {
        client: { clientId: client.clientId, active: !client.active }, updateMask: "active",
      }));
      reload(client.active ? "Disabled: the client gets no new tokens and its tokens introspect inactive." : "Enabled.");
    } catch (err) {
      fail(err);
    }
  });

  const grace = field("Grace period for the current secrets (seconds)", { name: "grace_seconds", type: "number", min: 0, value: 3600 },
    "How long the secrets in use keep working beside the new one.");
  const rotateError = h("p", { class: "error", role: "alert", hidden: true });
  const rotate = h("button", { type: "submit" }, "Rotate secret");
  const rotateForm = h("form", { "aria-labelledby": "rotate-title", onsubmit: async (event) => {
    event.preventDefault();
    clearErrors({ graceSeconds: grace }, rotateError);
    try {
      const answer = await busy("Rotating the secret…", rotate, () => call("ClientAdmin/RotateSecret", {
        clientId: client.clientId, graceSeconds: grace.input.value || "0",
      }));
      showSecretOnce(client.clientId, answer.clientSecret, () => reload("Secret rotated."));
    } catch (err) {
      showError({ graceSeconds: grace }, rotateError, err);
    }
  } }, h("h3", { id: "rotate-title" }, "Rotate secret"), grace.wrapper, rotateError, rotate);

  const confirm = field(`Type ${client.clientId} to confirm`, { name: "confirm_client_id", autocomplete: "off" });
  const remove = h("button", { type: "submit", class: "danger", disabled: true }, "Delete client");
  confirm.input.addEventListener("input", () => {
    remove.disabled = confirm.input.value !== client.clientId;
  });
  const deleteError = h("p", { class: "error", role: "alert", hidden: true });
  const deleteForm = h("form", { "aria-labelledby": "delete-title", onsubmit: async (event) => {
    event.preventDefault();
    if (confirm.input.value !== client.clientId) return;
    try {
      await busy("Deleting…", remove, () => call("ClientAdmin/DeleteClient", { clientId: client.clientId }));
      location.hash = "#/clients";
    } catch (err) {
      deleteError.textContent = err.message;
      deleteError.hidden = false;
    }
  } }, h("h3", { id: "delete-title" }, "Delete client"),
  h("p", {}, "Its secrets stop working and its tokens introspect inactive. This cannot be undone."),
  confirm.wrapper, deleteError, remove);

  return h("section", { class: "card", "aria-labelledby": "actions-title" },
    h("h2", { id: "actions-title" }, "Actions"), error, h("div", { class: "row" }, toggle), rotateForm, deleteForm);
}

export function clientPage(view, clientId, notice = "") {
  show(view, h("p", {}, `Loading ${clientId}…`));
  const reload = (message) => clientPage(view, clientId, message);
  busy("Loading the client…", null, () => call("ClientAdmin/GetClient", { clientId }))
    .then((client) => {
      show(view,
        h("p", {}, h("a", { href: "#/clients" }, "← All clients")),
        h("div", { class: "title-row" }, h("h1", {}, client.clientId),
          client.active ? null : h("span", { class: "badge off" }, "disabled")),
        notice ? h("p", { class: "notice", role: "status" }, notice) : null,
        h("div", { class: "columns" },
          h("section", { class: "card", "aria-label": "Details" }, facts(client), secretsTable(client.secrets || [])),
          h("div", {}, editForm(client, reload), actions(client, view, reload))));
    })
    .catch((err) => show(view, h("p", { class: "error", role: "alert" }, loadFailed(err)),
      h("p", {}, h("a", { href: "#/clients" }, "← All clients"))));
}
