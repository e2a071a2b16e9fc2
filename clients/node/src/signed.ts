// The checks every token tokend signs takes before its claims are read: its
// `typ`, a key the issuer published, that key's one algorithm, the
// signature in its one valid (low-s) form, the issuer, the audience and the
// lifetime. Access tokens and Transaction Tokens differ only in what they
// expect here.

import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from "jose";

import { claimNamesAreUnique } from "./claimNames.js";
import { InvalidToken } from "./invalidToken.js";
import type { KeySet } from "./keys.js";

/** Half the order of P-256: tokend never signs with an `s` above it. */
const P256_HALF_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n / 2n;

/** What a token must be. */
export interface Expected {
  /** Its `typ` header, in any case; one of these. */
  types: readonly string[];
  /** Why a token of another `typ` is refused. */
  wrongType: string;
  issuer: string;
  audience: string;
  leewaySeconds: number;
  requiredClaims: string[];
}

/** The claims of `token` if it is what `expected` says, signed by a key of `keys`. */
export async function checkSigned(keys: KeySet, token: string, expected: Expected): Promise<JWTPayload> {
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new InvalidToken("malformed token");
  }
  if (!expected.types.includes(String(header.typ ?? "").toLowerCase())) {
    throw new InvalidToken(expected.wrongType);
  }
  const key = await keys.key(String(header.kid ?? ""));
  if (!key) {
    throw new InvalidToken("unknown signing key");
  }
  // Only the algorithm the key was published with: no algorithm confusion.
  if (header.alg !== key.alg) {
    throw new InvalidToken("algorithm does not match the key");
  }
  if (key.alg === "ES256" && !hasLowS(token)) {
    throw new InvalidToken("bad signature");
  }
  // RFC 7519 §4: a second member of one name (a second `sub` or `status`)
  // must not be read last-wins, as JSON.parse would.
  if (!claimNamesAreUnique(token)) {
    throw new InvalidToken("a claim name appears twice");
  }
  try {
    const { payload } = await jwtVerify(token, key.key, {
      algorithms: [key.alg],
      issuer: expected.issuer,
      audience: expected.audience,
      clockTolerance: expected.leewaySeconds,
      requiredClaims: expected.requiredClaims,
    });
    return payload;
  } catch (error) {
    throw new InvalidToken(reason(error));
  }
}

/** What a failed check tells the caller, by jose's error. */
function reason(error: unknown): string {
  if (error instanceof errors.JWTExpired) {
    return "token expired";
  }
  if (error instanceof errors.JWTClaimValidationFailed && error.reason !== "missing") {
    const why: Record<string, string> = {
      nbf: "token not yet valid",
      aud: "token is for another audience",
      iss: "token is from another issuer",
    };
    return why[error.claim] ?? "malformed token";
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return "bad signature";
  }
  return "malformed token";
}

/**
 * tokend signs ES256 in the low-s form only; the other form of one signature
 * is a second string for one token, refused as tokend does.
 */
function hasLowS(token: string): boolean {
  const raw = Buffer.from(token.slice(token.lastIndexOf(".") + 1), "base64url");
  return raw.length === 64 && BigInt(`0x${raw.subarray(32).toString("hex")}`) <= P256_HALF_ORDER;
}
