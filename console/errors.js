// Putting a refused call's words next to what caused it: the field the
// server's message names, or else the form as a whole.

import { fieldError } from "./dom.js";

/** Which field a refusal is about, by its reason or the words of its message. */
const CULPRITS = [
  [(e) => e.reason === "already_exists" || /^client id|client_id/i.test(e.message), "clientId"],
  [(e) => /tls_client_auth|subject_dn|san_dns|san_uri/i.test(e.message), "certificateName"],
  [(e) => /rate_limit_burst needs/i.test(e.message), "rateLimitBurst"],
  [(e) => /rate_limit/i.test(e.message), "rateLimitPerSecond"],
  [(e) => /secret_max_age/i.test(e.message), "secretMaxAgeSeconds"],
  [(e) => /jwks/i.test(e.message), "jwksUri"],
  [(e) => /^claims/i.test(e.message), "claims"],
  [(e) => /default.?scope/i.test(e.message), "defaultScopes"],
  [(e) => /exchange.?audience/i.test(e.message), "tokenExchangeAudiences"],
  [(e) => /scope/i.test(e.message), "allowedScopes"],
  [(e) => /audience/i.test(e.message), "audiences"],
  [(e) => /ttl|lifetime/i.test(e.message), "tokenTtlSeconds"],
  [(e) => /display.?name/i.test(e.message), "displayName"],
  [(e) => /grace/i.test(e.message), "graceSeconds"],
];

/** Clears the errors of `fields` (name → field) and of `formError`. */
export function clearErrors(fields, formError) {
  for (const field of Object.values(fields)) fieldError(field, "");
  formError.hidden = true;
}

/** Shows `error` under the field it names, or in `formError`. */
export function showError(fields, formError, error) {
  const sentence = /[.!?]$/.test(error.message) ? error.message : `${error.message}.`;
  const text = error.reason === "already_exists" ? `${sentence} Choose another client ID.` : sentence;
  const culprit = CULPRITS.find(([matches, name]) => fields[name] && matches(error));
  if (culprit) {
    fieldError(fields[culprit[1]], text);
    fields[culprit[1]].input.focus();
  } else {
    formError.textContent = text;
    formError.hidden = false;
  }
}

/** A page that could not load: what went wrong, in words. */
export function loadFailed(error) {
  return `Could not load this page: ${error.message}`;
}
