// The console's errors.js, without a browser: which field a refusal is
// shown under comes from the field the server names, never from its words.

import { test } from "node:test";
import assert from "node:assert/strict";

import { culprit } from "../../console/errors.js";

const fields = { clientId: {}, defaultScopes: {}, allowedScopes: {}, rateLimitBurst: {}, certificateName: {} };

test("a refusal goes under the field the server names, whatever its message says", () => {
  const reworded = (field) => ({ reason: "invalid_argument", field, message: "Entirely new wording, naming nothing." });
  assert.equal(culprit(fields, reworded("default_scopes")), "defaultScopes");
  assert.equal(culprit(fields, reworded("rate_limit_burst")), "rateLimitBurst");
  assert.equal(culprit(fields, reworded("tls_client_auth_san_uri")), "certificateName");
});

test("a message that names a field is not enough without the server naming it", () => {
  const old = { reason: "invalid_argument", field: "", message: "default scope \"x\" is not among the allowed scopes" };
  assert.equal(culprit(fields, old), null);
});

test("a taken client id goes under the id; a field the form lacks goes to the form", () => {
  assert.equal(culprit(fields, { reason: "already_exists", field: "", message: "exists" }), "clientId");
  assert.equal(culprit(fields, { reason: "invalid_argument", field: "claims", message: "bad claims" }), null);
});
