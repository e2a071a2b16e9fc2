// How a client authenticates, as a choice in a form: a secret, a TLS client
// certificate naming it, or assertions signed with keys it publishes; each
// with the fields it needs, shown only when chosen.

import { field, h } from "./dom.js";

/** The ways the form offers, by the name of the choice. */
const WAYS = [
  ["secret", "Client secret", "A secret, shown once, sent with Basic or in the form."],
  ["tls_client_auth", "TLS client certificate", "A certificate from your CA naming the client (RFC 8705); no secret."],
  ["private_key_jwt", "Signed assertions", "JWTs signed with a key the client publishes (RFC 7523); no secret."],
];

/** What a `tls_client_auth` certificate can be required to name, by the client field that carries it. */
const CERTIFICATE_NAMES = [
  ["tlsClientAuthSanUri", "URI SAN (a SPIFFE ID)"],
  ["tlsClientAuthSanDns", "DNS SAN"],
  ["tlsClientAuthSubjectDn", "Subject DN (RFC 4514)"],
];

const SECRET_METHODS = ["client_secret_basic", "client_secret_post"];

/** The authentication fields of a create or update request, each cleared unless the way needs it. */
export const AUTH_FIELDS = ["tokenEndpointAuthMethods", "tlsClientAuthSubjectDn", "tlsClientAuthSanDns", "tlsClientAuthSanUri",
  "jwksUri", "tlsClientCertificateBoundAccessTokens", "dpopBoundAccessTokens"];

/**
 * How `client` authenticates, as the form would ask for it: `null` when it is
 * a way the form does not offer (several methods, an inline JWK Set, none).
 */
function settingsOf(client) {
  const methods = client.tokenEndpointAuthMethods || [];
  const dpop = Boolean(client.dpopBoundAccessTokens);
  if (methods.length && methods.every((m) => SECRET_METHODS.includes(m))) return request("secret", "", "", false, "", dpop);
  if (methods.length !== 1) return null;
  if (methods[0] === "tls_client_auth") {
    const [kind] = CERTIFICATE_NAMES.find(([key]) => client[key]) || CERTIFICATE_NAMES[0];
    return request("tls_client_auth", kind, client[kind] || "", Boolean(client.tlsClientCertificateBoundAccessTokens), "", dpop);
  }
  if (methods[0] === "private_key_jwt" && !client.jwks) return request("private_key_jwt", "", "", false, client.jwksUri || "", dpop);
  return null;
}

/**
 * Every authentication field of a request for `way`, the ones it does not use
 * cleared. Tokens are bound to the certificate or to a DPoP key, not both.
 */
function request(way, kind = "", name = "", bound = false, jwksUri = "", dpop = false) {
  const methods = { secret: SECRET_METHODS, tls_client_auth: ["tls_client_auth"], private_key_jwt: ["private_key_jwt"] }[way];
  const cleared = Object.fromEntries(CERTIFICATE_NAMES.map(([key]) => [key, ""]));
  return {
    tokenEndpointAuthMethods: methods,
    ...cleared,
    ...(way === "tls_client_auth" ? { [kind]: name } : {}),
    jwksUri: way === "private_key_jwt" ? jwksUri : "",
    tlsClientCertificateBoundAccessTokens: way === "tls_client_auth" && bound,
    dpopBoundAccessTokens: dpop && !(way === "tls_client_auth" && bound),
  };
}

/**
 * The choice, set to how `client` authenticates now (a new client: a
 * secret). `fields` are its text fields, for errors; `request()` gives the
 * authentication fields of the request, all of them, or `null` when the
 * client authenticates in a way the form cannot show; `changed()` says
 * whether they differ from how the client authenticates now.
 */
export function authenticationChoice(client = null) {
  const current = client ? settingsOf(client) : request("secret");
  if (!current) {
    const methods = (client.tokenEndpointAuthMethods || []).join(" ") || "none of its own";
    return {
      fields: {},
      fieldset: h("fieldset", {}, h("legend", {}, "How it authenticates"),
        h("p", {}, `By ${methods}: change it with `, h("code", {}, "tokend client set-auth"), " or UpdateClient.")),
      request: () => null,
      changed: () => false,
    };
  }
  const currentWay = WAYS.find(([way]) => current.tokenEndpointAuthMethods[0] === way)?.[0] || "secret";
  const currentKind = CERTIFICATE_NAMES.find(([key]) => current[key])?.[0] || CERTIFICATE_NAMES[0][0];
  const kind = h("select", { "aria-label": "Kind of name" },
    CERTIFICATE_NAMES.map(([value, label]) => h("option", { value, selected: value === currentKind }, label)));
  const certificateName = field("Certificate name",
    { name: "certificate_name", autocomplete: "off", placeholder: "spiffe://example.org/billing", value: current[currentKind] },
    "What the client's certificate must name, of the kind chosen above.");
  certificateName.input.before(kind);
  const bound = h("input", { type: "checkbox", name: "bound_tokens", checked: current.tlsClientCertificateBoundAccessTokens });
  bound.id = `bound-${certificateName.input.id}`;
  const boundRow = h("div", { class: "row" }, bound, h("label", { for: bound.id }, "Bind its tokens to the certificate"));
  const dpop = h("input", { type: "checkbox", name: "dpop_bound", checked: current.dpopBoundAccessTokens });
  dpop.id = `dpop-${certificateName.input.id}`;
  const dpopRow = h("div", { class: "row" }, dpop,
    h("label", { for: dpop.id }, "Require DPoP: bind its tokens to a key it holds (RFC 9449)"));
  const jwksUri = field("JWKS URI",
    { name: "jwks_uri", type: "url", autocomplete: "off", placeholder: "https://billing.example/jwks.json", value: current.jwksUri },
    "Where the client publishes its public keys (https).");
  const parts = { tls_client_auth: [certificateName.wrapper, boundRow], private_key_jwt: [jwksUri.wrapper] };
  const radios = WAYS.map(([way, label, hint]) => {
    const id = `${certificateName.input.id}-${way}`;
    const radio = h("input", { type: "radio", name: "auth_way", id, value: way, checked: way === currentWay, "aria-describedby": `${id}-hint` });
    return h("div", { class: "choice" }, radio, h("label", { for: id }, label), h("small", { id: `${id}-hint` }, hint));
  });
  const fieldset = h("fieldset", {}, h("legend", {}, "How it authenticates"), radios, Object.values(parts).flat(), dpopRow);
  const chosen = () => fieldset.querySelector("input[name=auth_way]:checked").value;
  const reveal = () => {
    for (const [way, nodes] of Object.entries(parts)) for (const node of nodes) node.hidden = way !== chosen();
  };
  fieldset.addEventListener("change", reveal);
  reveal();
  return {
    fields: { certificateName, jwksUri },
    fieldset,
    request: () => request(chosen(), kind.value, certificateName.input.value.trim(), bound.checked, jwksUri.input.value.trim(),
      dpop.checked),
    changed() {
      return JSON.stringify(this.request()) !== JSON.stringify(current);
    },
  };
}
