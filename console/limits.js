// A client's limits as form fields: its token rate (for the whole fleet) with its
// burst, and how long its new secrets live.

import { field } from "./dom.js";

/** The fields, filled from `client` when there is one; `values()` reads them as request fields. */
export function limitFields(client = {}) {
  const fields = {
    rateLimitPerSecond: field("Rate limit (tokens per second)",
      { name: "rate_limit_per_second", type: "number", min: 0, value: client.rateLimitPerSecond || "" },
      "Empty or 0: unlimited. The instances share it between them."),
    rateLimitBurst: field("Burst",
      { name: "rate_limit_burst", type: "number", min: 0, value: client.rateLimitBurst || "" },
      "Tokens it may take at once; empty: one second's worth."),
    secretMaxAgeSeconds: field("Secret maximum age (seconds)",
      { name: "secret_max_age_seconds", type: "number", min: 0, value: client.secretMaxAgeSeconds || "" },
      "New secrets expire after this (7776000 is 90 days); empty or 0: the server's setting."),
  };
  const number = (f) => Number(f.input.value.trim() || 0);
  return {
    fields,
    values: () => ({
      rateLimitPerSecond: number(fields.rateLimitPerSecond),
      rateLimitBurst: number(fields.rateLimitBurst),
      secretMaxAgeSeconds: String(number(fields.secretMaxAgeSeconds)),
    }),
  };
}
