// What a call presents to a resource server: the token of its
// `Authorization` header (`Bearer` or `DPoP`, the scheme in any case) and its
// DPoP proof, read and checked the same by every integration.

import type { Claims } from "./claims.js";
import { InvalidToken } from "./invalidToken.js";
import type { Verifier } from "./verifier.js";

/** How a service names the scopes its calls need. */
export interface ScopeRules {
  /** Scopes every call needs. */
  scopes?: readonly string[];
  /** Scopes a method needs besides, by its full name (`/orders.v1.Orders/PlaceOrder`) or route. */
  methodScopes?: Readonly<Record<string, readonly string[]>>;
  /** The service's public URL (`https://orders.example`), which DPoP proofs name; by default, what the call itself says. */
  origin?: string;
}

export interface Call {
  authorization: string | undefined;
  /** Every DPoP header or metadata value the call came with. */
  proofs: readonly string[];
  method: string;
  /** The full URL of the call, for DPoP's `htu`. */
  url: string;
  certificateDer?: Uint8Array;
}

/** The scopes `method` needs under `rules`. */
export function scopesFor(rules: ScopeRules, method: string): string[] {
  return [...(rules.scopes ?? []), ...(rules.methodScopes?.[method] ?? [])];
}

/** Checks a call's token as its scheme asks: a DPoP proof goes with the DPoP scheme only. */
export async function verifyCall(verifier: Verifier, call: Call, scopes: readonly string[]): Promise<Claims> {
  const [scheme = "", ...rest] = (call.authorization ?? "").split(" ");
  const token = rest.join(" ").trim();
  const dpop = scheme.toLowerCase() === "dpop";
  if (!token || !(dpop || scheme.toLowerCase() === "bearer")) {
    throw new InvalidToken("no bearer token", "invalid_token", { missing: true });
  }
  if (call.proofs.length > 1) {
    throw new InvalidToken("send one DPoP proof, not several", "invalid_dpop_proof");
  }
  if (dpop && call.proofs.length === 0) {
    throw new InvalidToken("a DPoP-bound token needs a DPoP proof", "invalid_dpop_proof");
  }
  // A bound token presented as a bearer token is refused, whatever proof came with it.
  return verifier.verify(token, {
    scopes,
    certificateDer: call.certificateDer,
    dpopProof: dpop ? call.proofs[0] : undefined,
    method: call.method,
    url: call.url,
  });
}

/** The value of the `authorization` header or metadata for `token`, and its DPoP proof for `method` `url`. */
export async function authorizationFor(
  token: { accessToken: string; tokenType: string },
  dpop: { proof(method: string, url: string, options: { accessToken: string }): Promise<string> } | undefined,
  method: string,
  url: string,
): Promise<{ authorization: string; proof?: string }> {
  if (dpop && token.tokenType.toLowerCase() === "dpop") {
    return { authorization: `DPoP ${token.accessToken}`, proof: await dpop.proof(method, url, { accessToken: token.accessToken }) };
  }
  return { authorization: `Bearer ${token.accessToken}` };
}
