// Connect (`@connectrpc/connect`) on both sides of a call. Calling:
// interceptors that put a TokenSource's token on every request (Bearer, or
// DPoP with a proof for the request's URL), and send the current
// Transaction Token on. Serving: interceptors that let a call through only
// with a valid access token, or Transaction Token, refusing with
// Unauthenticated, PermissionDenied or Unavailable; handlers read them with
// `context.values.get(claimsKey)` or `context.values.get(txnKey)`.

import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";

import type { Claims } from "./claims.js";
import { InvalidToken, unavailable } from "./invalidToken.js";
import { authorizationFor, scopesFor, verifyCall, type ScopeRules } from "./presented.js";
import { TokenError } from "./tokenError.js";
import type { TokenSource } from "./tokenSource.js";
import { currentTxnToken, runWithTxnToken, TXN_TOKEN_HEADER, type TxnToken, type TxnVerifier } from "./txn.js";
import type { Verifier } from "./verifier.js";

/** Where the serving interceptor leaves the call's claims. */
export const claimsKey = createContextKey<Claims | undefined>(undefined, { description: "tokend claims" });
/** Where the Transaction Token interceptor leaves the call's Txn-Token. */
export const txnKey = createContextKey<TxnToken | undefined>(undefined, { description: "tokend transaction token" });

const CODES: Record<string, Code> = {
  invalid_token: Code.Unauthenticated,
  invalid_dpop_proof: Code.Unauthenticated,
  insufficient_scope: Code.PermissionDenied,
  temporarily_unavailable: Code.Unavailable,
};

/** Puts a token from `source` on every request; when none can be had, the call fails without being sent. */
export function bearerInterceptor(source: TokenSource, options: { scope?: string; audience?: readonly string[] } = {}): Interceptor {
  return (next) => async (req) => {
    let token;
    try {
      token = await source.token({ scope: options.scope, audience: options.audience });
    } catch (error) {
      const code = error instanceof TokenError && error.retryable ? Code.Unavailable : Code.Unauthenticated;
      throw new ConnectError(`no token for the call: ${error instanceof Error ? error.message : String(error)}`, code);
    }
    const { authorization, proof } = await authorizationFor(token, source.dpopKey, req.requestMethod, req.url);
    req.header.set("authorization", authorization);
    if (proof) {
      req.header.set("dpop", proof);
    }
    return next(req);
  };
}

/**
 * Lets a call through only with a valid token holding `scopes` (and
 * `methodScopes["/package.Service/Method"]`). `origin` is this server's URL
 * as callers name it in DPoP proofs; by default, the request's own.
 */
export function verifyInterceptor(verifier: Verifier, rules: ScopeRules = {}): Interceptor {
  return (next) => async (req) => {
    const url = new URL(req.url);
    const origin = rules.origin?.replace(/\/+$/, "") ?? url.origin;
    const path = `/${req.service.typeName}/${req.method.name}`;
    const dpop = req.header.get("dpop");
    const call = {
      authorization: req.header.get("authorization") ?? undefined,
      proofs: dpop === null ? [] : dpop.split(",").map((proof) => proof.trim()),
      method: req.requestMethod,
      url: `${origin}${url.pathname}`,
    };
    let claims;
    try {
      claims = await verifyCall(verifier, call, scopesFor(rules, path));
    } catch (error) {
      const refused = error instanceof InvalidToken ? error : unavailable("the token could not be checked");
      throw new ConnectError(refused.description, CODES[refused.error]);
    }
    req.contextValues.set(claimsKey, claims);
    return next(req);
  };
}

/**
 * Lets a call through only with a Transaction Token (`txn-token` header) of
 * the verifier's trust domain holding `scopes`; its handler finds it at
 * `context.values.get(txnKey)` and current (`currentTxnToken()`).
 */
export function verifyTxnInterceptor(verifier: TxnVerifier, options: { scopes?: readonly string[] } = {}): Interceptor {
  return (next) => async (req) => {
    const token = req.header.get(TXN_TOKEN_HEADER);
    let txn;
    try {
      if (token === null) {
        throw new InvalidToken("no Transaction Token (txn-token)");
      }
      txn = { token, claims: await verifier.verify(token, options) };
    } catch (error) {
      const refused = error instanceof InvalidToken ? error : unavailable("the token could not be checked");
      throw new ConnectError(refused.description, CODES[refused.error]);
    }
    req.contextValues.set(txnKey, txn);
    return runWithTxnToken(txn, () => next(req));
  };
}

/** Sends the current Transaction Token, if any, with every request. */
export function propagateTxnInterceptor(): Interceptor {
  return (next) => async (req) => {
    const txn = currentTxnToken();
    if (txn && !req.header.has(TXN_TOKEN_HEADER)) {
      req.header.set(TXN_TOKEN_HEADER, txn.token);
    }
    return next(req);
  };
}
