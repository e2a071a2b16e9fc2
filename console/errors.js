// Putting a refused call's words next to what caused it: the field the
// server names beside its message, or else the form as a whole.

import { fieldError } from "./dom.js";

/** The form field each field of the contract is entered in. */
const FORM_FIELDS = {
  client_id: "clientId",
  display_name: "displayName",
  allowed_scopes: "allowedScopes",
  default_scopes: "defaultScopes",
  audiences: "audiences",
  token_ttl_seconds: "tokenTtlSeconds",
  tls_client_auth_subject_dn: "certificateName",
  tls_client_auth_san_dns: "certificateName",
  tls_client_auth_san_uri: "certificateName",
  jwks: "jwksUri",
  jwks_uri: "jwksUri",
  rate_limit_per_second: "rateLimitPerSecond",
  rate_limit_burst: "rateLimitBurst",
  secret_max_age_seconds: "secretMaxAgeSeconds",
  claims: "claims",
  token_exchange_audiences: "tokenExchangeAudiences",
  txn_token_requester: "txnTokenRequester",
  grant_types: "grantTypes",
  grace_seconds: "graceSeconds",
};

/**
 * Which of `fields` a refusal is about: the field the server names in its
 * BadRequest violation (never guessed from the words of its message), or
 * the client id when that is taken; `null` for the form as a whole.
 */
export function culprit(fields, error) {
  const name = error.reason === "already_exists" ? "clientId" : FORM_FIELDS[error.field];
  return name && fields[name] ? name : null;
}

/** Clears the errors of `fields` (name → field) and of `formError`. */
export function clearErrors(fields, formError) {
  for (const field of Object.values(fields)) fieldError(field, "");
  formError.hidden = true;
}

/** Shows `error` under the field it names, or in `formError`. */
export function showError(fields, formError, error) {
  const sentence = /[.!?]$/.test(error.message) ? error.message : `${error.message}.`;
  const text = error.reason === "already_exists" ? `${sentence} Choose another client ID.` : sentence;
  const name = culprit(fields, error);
  if (name) {
    fieldError(fields[name], text);
    fields[name].input.focus();
  } else {
    formError.textContent = text;
    formError.hidden = false;
  }
}

/** A page that could not load: what went wrong, in words. */
export function loadFailed(error) {
  return `Could not load this page: ${error.message}`;
}
