// Registering a client: a form, then its secret shown once, or, for a client
// that proves itself with a certificate or signed assertions, no secret.

import { call } from "./api.js";
import { field, h, show, words } from "./dom.js";
import { clearErrors, showError } from "./errors.js";
import { busy } from "./progress.js";
import { showSecretOnce } from "./secret-dialog.js";

/** The ways a client can authenticate that the form offers, by the method it sends. */
const METHODS = [
  ["secret", "Client secret", "A secret, shown once, sent with Basic or in the form."],
  ["tls_client_auth", "TLS client certificate", "A certificate from your CA naming the client (RFC 8705); no secret."],
  ["private_key_jwt", "Signed assertions", "JWTs signed with a key the client publishes (RFC 7523); no secret."],
];

/** What a `tls_client_auth` certificate must name, by the request field that carries it. */
const CERTIFICATE_NAMES = [
  ["tlsClientAuthSanUri", "URI SAN (a SPIFFE ID)"],
  ["tlsClientAuthSanDns", "DNS SAN"],
  ["tlsClientAuthSubjectDn", "Subject DN (RFC 4514)"],
];

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
  const auth = authenticationChoice();
  Object.assign(fields, auth.fields);
  const formError = h("p", { class: "error", role: "alert", hidden: true });
  const create = h("button", { type: "submit" }, "Create client");
  const submit = async (event) => {
    event.preventDefault();
    clearErrors(fields, formError);
    const request = {
      clientId: fields.clientId.input.value.trim(),
      displayName: fields.displayName.input.value.trim(),
      allowedScopes: words(fields.allowedScopes.input.value),
      defaultScopes: words(fields.defaultScopes.input.value),
      audiences: words(fields.audiences.input.value),
      tokenTtlSeconds: fields.tokenTtlSeconds.input.value.trim() || "0",
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
      showError(fields, formError, err);
    }
  };
  show(view, h("section", { class: "card narrow" },
    h("h1", { id: "new-title" }, "New client"),
    h("p", {}, "A service that gets tokens. A secret is shown once, when it is created; a client with a certificate or a key has none."),
    h("form", { "aria-labelledby": "new-title", onsubmit: submit },
      Object.values(fields).filter((f) => !auth.owns(f)).map((f) => f.wrapper), auth.fieldset, formError, create)));
  fields.clientId.input.focus();
}

/** The choice of how the client authenticates, with the fields each way needs, shown only for it. */
function authenticationChoice() {
  const kind = h("select", { id: "certificate-name-kind", "aria-label": "Kind of name" },
    CERTIFICATE_NAMES.map(([value, label]) => h("option", { value }, label)));
  const certificateName = field("Certificate name", { name: "certificate_name", autocomplete: "off", placeholder: "spiffe://example.org/billing" },
    "What the client's certificate must name, of the kind chosen above.");
  certificateName.input.before(kind);
  const bound = h("input", { type: "checkbox", id: "bound-tokens", name: "bound_tokens" });
  const boundRow = h("div", { class: "row" }, bound, h("label", { for: "bound-tokens" }, "Bind its tokens to the certificate"));
  const jwksUri = field("JWKS URI", { name: "jwks_uri", type: "url", autocomplete: "off", placeholder: "https://billing.example/jwks.json" },
    "Where the client publishes its public keys (https).");
  const parts = { tls_client_auth: [certificateName.wrapper, boundRow], private_key_jwt: [jwksUri.wrapper] };
  const radios = METHODS.map(([value, label, hint], i) => {
    const id = `auth-${value}`;
    const radio = h("input", { type: "radio", name: "auth_method", id, value, checked: i === 0, "aria-describedby": `${id}-hint` });
    return h("div", { class: "choice" }, radio, h("label", { for: id }, label), h("small", { id: `${id}-hint` }, hint));
  });
  const fieldset = h("fieldset", {}, h("legend", {}, "How it authenticates"), radios, Object.values(parts).flat());
  const chosen = () => fieldset.querySelector("input[name=auth_method]:checked").value;
  const reveal = () => {
    for (const [method, nodes] of Object.entries(parts)) for (const node of nodes) node.hidden = method !== chosen();
  };
  fieldset.addEventListener("change", reveal);
  reveal();
  const fields = { certificateName, jwksUri };
  return {
    fields,
    fieldset,
    owns: (f) => Object.values(fields).includes(f),
    request() {
      switch (chosen()) {
        case "tls_client_auth":
          return {
            tokenEndpointAuthMethods: ["tls_client_auth"],
            [kind.value]: certificateName.input.value.trim(),
            tlsClientCertificateBoundAccessTokens: bound.checked,
          };
        case "private_key_jwt":
          return { tokenEndpointAuthMethods: ["private_key_jwt"], jwksUri: jwksUri.input.value.trim() };
        default:
          return {};
      }
    },
  };
}
