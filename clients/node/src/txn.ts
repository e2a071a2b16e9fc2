// Transaction Tokens (draft-ietf-oauth-transaction-tokens-10) for Node
// services: `TxnVerifier` checks one locally (tokend's signature, `typ`
// `txntoken+jwt`, `aud` = the trust domain, `exp`, the scopes a call needs);
// `TxnEdge` asks tokend for one at the edge; `currentTxnToken()` is the one
// of the request being handled, set by the serving integrations (Express,
// grpc-js, Connect) and sent on by the propagating ones.

import { AsyncLocalStorage } from "node:async_hooks";

import { Http, type TlsOptions } from "./http.js";
import { InvalidToken } from "./invalidToken.js";
import { KeySet } from "./keys.js";
import { checkSigned } from "./signed.js";
import { TokenError } from "./tokenError.js";

export const TXN_TOKEN_TYP = "txntoken+jwt";
export const TXN_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:txn_token";
/** The HTTP header (and gRPC metadata key) a Transaction Token travels in. */
export const TXN_TOKEN_HEADER = "txn-token";

/** The claims of a verified Transaction Token. */
export interface TxnClaims {
  iss: string;
  iat: number;
  /** The trust domain. */
  aud: string;
  exp: number;
  /** The transaction's id: the same at every hop, and in every replacement. */
  txn: string;
  sub: string;
  scope: string;
  /** The workload that asked tokend for the token. */
  req_wl: string;
  /** The originating request's environment (`req_ip`, `authn`, …). */
  rctx?: Record<string, unknown>;
  /** What stays fixed through the call chain: the request's details. */
  tctx?: Record<string, unknown>;
}

/** A verified Transaction Token as received (passed on unchanged), and its claims. */
export interface TxnToken {
  token: string;
  claims: TxnClaims;
}

const current = new AsyncLocalStorage<TxnToken>();

/** The Transaction Token of the request being handled, if it came with one. */
export function currentTxnToken(): TxnToken | undefined {
  return current.getStore();
}

/** Runs `work` with `txn` as the current Transaction Token. */
export function runWithTxnToken<T>(txn: TxnToken, work: () => T): T {
  return current.run(txn, work);
}

/** The header an outgoing HTTP call sends the current Transaction Token in; empty without one. */
export function txnHeaders(): Record<string, string> {
  const txn = currentTxnToken();
  return txn ? { [TXN_TOKEN_HEADER]: txn.token } : {};
}

/** Checks Transaction Tokens for one trust domain. */
export class TxnVerifier {
  readonly issuer: string;
  readonly trustDomain: string;
  readonly #keys: KeySet;
  readonly #leeway: number;

  private constructor(issuer: string, trustDomain: string, keys: KeySet, leewaySeconds: number) {
    this.issuer = issuer;
    this.trustDomain = trustDomain;
    this.#keys = keys;
    this.#leeway = leewaySeconds;
  }

  /**
   * For Txn-Tokens tokend at `issuer` signs for `trustDomain` (its
   * `--txn-token-audience`, by default the issuer); keys are fetched now.
   */
  static async discover(issuer: string, trustDomain: string, options: { ca?: string | Buffer; leewaySeconds?: number } = {}): Promise<TxnVerifier> {
    const keys = await KeySet.discover(new Http({ ca: options.ca }), issuer, 10_000, 300_000);
    return new TxnVerifier(issuer, trustDomain, keys, options.leewaySeconds ?? 10);
  }

  /** The claims of `token` if it is a live Transaction Token of this trust domain holding `scopes`. */
  async verify(token: string, options: { scopes?: readonly string[] } = {}): Promise<TxnClaims> {
    const payload = await checkSigned(this.#keys, token, {
      types: [TXN_TOKEN_TYP],
      wrongType: "not a Transaction Token (typ)",
      issuer: this.issuer,
      audience: this.trustDomain,
      leewaySeconds: this.#leeway,
      requiredClaims: ["exp", "iss", "aud", "sub", "txn", "req_wl"],
    });
    const claims = payload as unknown as TxnClaims;
    const granted = String(claims.scope ?? "").split(" ");
    const required = options.scopes ?? [];
    if (required.some((scope) => !granted.includes(scope))) {
      const scope = required.join(" ");
      throw new InvalidToken(`this call needs scope "${scope}"`, "insufficient_scope", { scope });
    }
    return claims;
  }
}

/**
 * At the edge of the trust domain: turns a caller's access token into a
 * Transaction Token at tokend's token endpoint, as a client registered as a
 * `txn_token_requester`.
 */
export class TxnEdge {
  readonly #endpoint: string;
  readonly #basic: string;
  readonly #trustDomain: string;
  readonly #http: Http;

  constructor(issuer: string, client: { clientId: string; clientSecret: string }, trustDomain: string, tls: TlsOptions = {}) {
    this.#endpoint = `${issuer.replace(/\/+$/, "")}/oauth/v2/token`;
    const pair = `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`;
    this.#basic = `Basic ${Buffer.from(pair).toString("base64")}`;
    this.#trustDomain = trustDomain;
    this.#http = new Http(tls);
  }

  /** The Txn-Token for one request. Rejects with `TokenError`. */
  async exchange(
    accessToken: string,
    scope: string,
    options: { requestContext?: Record<string, unknown>; requestDetails?: Record<string, unknown> } = {},
  ): Promise<string> {
    const form = new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      requested_token_type: TXN_TOKEN_TYPE,
      subject_token: accessToken,
      subject_token_type: "urn:ietf:params:oauth:token-type:access_token",
      audience: this.#trustDomain,
      scope,
    });
    if (options.requestContext) {
      form.set("request_context", JSON.stringify(options.requestContext));
    }
    if (options.requestDetails) {
      form.set("request_details", JSON.stringify(options.requestDetails));
    }
    const answer = await this.#http.request(this.#endpoint, {
      method: "POST",
      headers: { authorization: this.#basic, "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    const body = (await answer.json().catch(() => ({}))) as Record<string, unknown>;
    if (!answer.ok || body.issued_token_type !== TXN_TOKEN_TYPE) {
      throw new TokenError(String(body.error ?? "temporarily_unavailable"), String(body.error_description ?? `HTTP ${answer.status}`), {
        retryable: answer.status === 503,
      });
    }
    return String(body.access_token);
  }

  async close(): Promise<void> {
    await this.#http.close();
  }
}
