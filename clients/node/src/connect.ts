// Connect (`@connectrpc/connect`) on both sides of a call. Calling: an
// interceptor that puts a TokenSource's token on every request (Bearer, or
// DPoP with a proof for the request's URL). Serving: an interceptor that lets
// a call through only with a valid token for it, refusing with Unauthenticated,
// PermissionDenied or Unavailable; handlers read the claims with
// `context.values.get(claimsKey)`.

import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";

import type { Claims } from "./claims.js";
import { InvalidToken, unavailable } from "./invalidToken.js";
import { authorizationFor, scopesFor, verifyCall, type ScopeRules } from "./presented.js";
import { TokenError } from "./tokenError.js";
import type { TokenSource } from "./tokenSource.js";
import type { Verifier } from "./verifier.js";

/** Where the serving interceptor leaves the call's claims. */
export const claimsKey = createContextKey<Claims | undefined>(undefined, { description: "tokend claims" });

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
