// `@grpc/grpc-js` on both sides of a call. Calling: an interceptor that puts
// a TokenSource's token on every call (`authorization: Bearer …`, or `DPoP …`
// with a fresh proof in `dpop`). Serving: an interceptor that lets a call
// through only with a valid token for it, refusing with UNAUTHENTICATED
// (`invalid_token`, `invalid_dpop_proof`), PERMISSION_DENIED
// (`insufficient_scope`) or UNAVAILABLE; the handler finds the claims with
// `claimsOf(call)`.

import * as grpc from "@grpc/grpc-js";

import type { Claims } from "./claims.js";
import { InvalidToken, unavailable } from "./invalidToken.js";
import { authorizationFor, scopesFor, verifyCall, type ScopeRules } from "./presented.js";
import { TokenError } from "./tokenError.js";
import type { TokenSource } from "./tokenSource.js";
import type { Verifier } from "./verifier.js";

/** Claims by the metadata object the handler's call carries: set by the interceptor only, never by a caller. */
const verified = new WeakMap<grpc.Metadata, Claims>();

export interface BearerOptions {
  scope?: string;
  audience?: readonly string[];
  /** The called service's URL (`http://orders:50051`), which DPoP proofs name; needed with a DPoP key. */
  origin?: string;
}

/** Puts a token from `source` on every call; when none can be had, the call fails without being sent. */
export function bearerInterceptor(source: TokenSource, options: BearerOptions = {}): grpc.Interceptor {
  return (callOptions, nextCall) =>
    new grpc.InterceptingCall(nextCall(callOptions), {
      start(metadata, listener, next) {
        const path = callOptions.method_definition.path;
        source
          .token({ scope: options.scope, audience: options.audience })
          .then((token) => authorizationFor(token, source.dpopKey, "POST", `${options.origin ?? "http://unknown"}${path}`))
          .then(
            ({ authorization, proof }) => {
              metadata.set("authorization", authorization);
              if (proof) {
                metadata.set("dpop", proof);
              }
              next(metadata, listener);
            },
            (error: unknown) => {
              const retryable = error instanceof TokenError && error.retryable;
              listener.onReceiveStatus({
                code: retryable ? grpc.status.UNAVAILABLE : grpc.status.UNAUTHENTICATED,
                details: `no token for the call: ${error instanceof Error ? error.message : String(error)}`,
                metadata: new grpc.Metadata(),
              });
            },
          );
      },
    });
}

/**
 * Lets a call through only with a valid token holding `scopes` (and
 * `methodScopes[path]`). `origin` is this server's URL as callers name it in
 * DPoP proofs (`http://orders:50051`).
 */
export function verifyInterceptor(verifier: Verifier, rules: ScopeRules = {}): grpc.ServerInterceptor {
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, pass) {
            const certificate = (call.getAuthContext?.() as { sslPeerCertificate?: { raw?: Buffer } } | undefined)?.sslPeerCertificate?.raw;
            const incoming = {
              authorization: first(metadata.get("authorization")),
              proofs: metadata.get("dpop").map(String),
              method: "POST",
              url: `${(rules.origin ?? `http://${call.getHost()}`).replace(/\/+$/, "")}${method.path}`,
              certificateDer: certificate,
            };
            verifyCall(verifier, incoming, scopesFor(rules, method.path)).then(
              (claims) => {
                verified.set(metadata, claims);
                pass(metadata);
              },
              (error: unknown) => {
                const refused = error instanceof InvalidToken ? error : unavailable("the token could not be checked");
                call.sendStatus({ code: refused.grpcCode, details: refused.description, metadata: new grpc.Metadata() });
              },
            );
          },
        });
      },
    });
}

/** The claims of a call the interceptor let through. */
export function claimsOf(call: { metadata: grpc.Metadata }): Claims {
  const claims = verified.get(call.metadata);
  if (!claims) {
    throw new Error("no verified token on this call: is verifyInterceptor installed on the server?");
  }
  return claims;
}

function first(values: grpc.MetadataValue[]): string | undefined {
  return values.length === 0 ? undefined : String(values[0]);
}
