// Token requests to tokend's HTTP token endpoint (RFC 6749 §4.4): a form
// POSTed with `fetch`, the secret in HTTP Basic (§2.3.1), an assertion in the
// form, a client certificate on the TLS connection, a DPoP proof in its
// header (retried once with the nonce tokend asks for).

import { prover, type ClientCredentials, type Prover } from "./credentials.js";
import type { DpopKey } from "./dpopKey.js";
import { Http, type TlsOptions } from "./http.js";
import { TokenError } from "./tokenError.js";
import type { Issued, Transport } from "./tokenSource.js";

export type HttpTransportOptions = TlsOptions & { dpop?: DpopKey };

/** Answers worth asking again: unavailable, or rate-limited. */
const RETRYABLE_STATUSES = [429, 503];

export class HttpTransport implements Transport {
  readonly #endpoint: string;
  readonly #prove: Prover;
  readonly #http: Http;
  readonly #dpop: DpopKey | undefined;
  #nonce: string | undefined;

  constructor(issuer: string, credentials: ClientCredentials, options: HttpTransportOptions = {}) {
    this.#endpoint = `${issuer.replace(/\/+$/, "")}/oauth/v2/token`;
    this.#prove = prover(credentials, issuer);
    this.#http = new Http(options);
    this.#dpop = options.dpop;
  }

  async issue(scope: string, audience: readonly string[]): Promise<Issued> {
    let answer = await this.#post(scope, audience);
    if (answer.status === 400 && this.#dpop && answer.headers.get("dpop-nonce")) {
      const body = (await answer.clone().json().catch(() => ({}))) as { error?: string };
      if (body.error === "use_dpop_nonce") {
        this.#nonce = answer.headers.get("dpop-nonce") ?? undefined;
        answer = await this.#post(scope, audience);
      }
    }
    const body = (await answer.json().catch(() => ({}))) as Record<string, unknown>;
    if (!answer.ok) {
      const retryAfter = Number(answer.headers.get("retry-after"));
      throw new TokenError(String(body.error ?? "temporarily_unavailable"), String(body.error_description ?? `HTTP ${answer.status}`), {
        retryable: RETRYABLE_STATUSES.includes(answer.status),
        retryAfterMs: Number.isFinite(retryAfter) && answer.headers.has("retry-after") ? retryAfter * 1000 : undefined,
      });
    }
    return {
      accessToken: String(body.access_token),
      tokenType: String(body.token_type),
      expiresIn: Number(body.expires_in),
      scope: String(body.scope ?? ""),
    };
  }

  async #post(scope: string, audience: readonly string[]) {
    const { client_id, client_secret, ...assertion } = await this.#prove();
    const form = new URLSearchParams({ grant_type: "client_credentials" });
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
    if (client_secret !== undefined) {
      const basic = `${encodeURIComponent(client_id)}:${encodeURIComponent(client_secret)}`;
      headers.authorization = `Basic ${Buffer.from(basic).toString("base64")}`;
    } else {
      form.set("client_id", client_id);
    }
    for (const [name, value] of Object.entries(assertion)) {
      form.set(name, value);
    }
    if (scope) {
      form.set("scope", scope);
    }
    for (const name of audience) {
      form.append("audience", name);
    }
    if (this.#dpop) {
      headers.dpop = await this.#dpop.proof("POST", this.#endpoint, { nonce: this.#nonce });
    }
    return this.#http.request(this.#endpoint, { method: "POST", headers, body: form.toString() });
  }

  async close(): Promise<void> {
    await this.#http.close();
  }
}
