// DPoP at the resource server (RFC 9449 §7): a DPoP-bound token is accepted
// only with one fresh proof signed by the key it is bound to (`cnf.jkt`), for
// this call's method and URL and this token (`ath`), used once (remembered in
// this process for the proof's window). The same rules as tokend's token
// endpoint and the Rust and Python verifiers.

import { createHash } from "node:crypto";

import { calculateJwkThumbprint, compactVerify, decodeProtectedHeader, importJWK, type JWK, type JWTPayload } from "jose";

import { InvalidToken } from "./invalidToken.js";

/** The algorithms a proof may be signed with; never `none` or a MAC. */
const PROOF_ALGORITHMS = ["ES256", "ES384", "EdDSA", "RS256", "PS256"];
/** JWK members only a private key has. */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
/** Key types a thumbprint can be made of (RFC 7638 §3.2). */
const KEY_TYPES = ["EC", "RSA", "OKP"];
/** How far ahead of this clock a proof's `iat` may be, in seconds. */
const FUTURE_LEEWAY_SECONDS = 5;
/** Proofs remembered at once; past it, new ones are refused, never old ones forgotten. */
const SEEN_CAPACITY = 100_000;

export function refuse(description: string): InvalidToken {
  return new InvalidToken(description, "invalid_dpop_proof");
}

/** base64url of the SHA-256 of `text`: a token's `ath`, a certificate's `x5t#S256`. */
export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("base64url");
}

/**
 * RFC 9449 §4.3 check 9: the same URI without query and fragment, after
 * RFC 3986 normalisation (scheme and host in lower case, default ports dropped).
 */
export function sameResource(htu: string, url: string): boolean {
  const normal = (text: string): string => {
    const parsed = new URL(text);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  };
  try {
    return normal(htu) === normal(url);
  } catch {
    return false;
  }
}

export class DpopChecker {
  readonly #maxAgeSeconds: number;
  #seen = new Map<string, number>();

  constructor(maxAgeSeconds: number) {
    this.#maxAgeSeconds = Math.trunc(maxAgeSeconds);
  }

  async check(proof: string, method: string, url: string, token: string, jkt: string): Promise<void> {
    const { jwk, claims } = await open(proof);
    let thumbprint;
    try {
      thumbprint = await calculateJwkThumbprint(jwk, "sha256");
    } catch {
      throw refuse("the DPoP proof's jwk is not a usable key");
    }
    if (thumbprint !== jkt) {
      throw refuse("the DPoP proof is signed by another key than the token is bound to");
    }
    if (claims.htm !== method) {
      throw refuse("the DPoP proof is for another method");
    }
    if (typeof claims.htu !== "string" || !sameResource(claims.htu, url)) {
      throw refuse("the DPoP proof is for another URL");
    }
    if (claims.ath !== sha256(token)) {
      throw refuse("the DPoP proof is for another token (ath)");
    }
    const now = Math.floor(Date.now() / 1000);
    const iat = claims.iat;
    if (typeof iat !== "number" || !Number.isInteger(iat)) {
      throw refuse("the DPoP proof has no iat");
    }
    if (iat < now - this.#maxAgeSeconds || iat > now + FUTURE_LEEWAY_SECONDS) {
      throw refuse("the DPoP proof is too old or from the future");
    }
    if (typeof claims.jti !== "string" || !claims.jti) {
      throw refuse("the DPoP proof has no jti");
    }
    this.#firstUse(sha256(`${jkt}\0${claims.jti}`), iat + this.#maxAgeSeconds + FUTURE_LEEWAY_SECONDS + 1, now);
  }

  #firstUse(key: string, until: number, now: number): void {
    if (this.#seen.size >= SEEN_CAPACITY) {
      this.#seen = new Map([...this.#seen].filter(([, end]) => end > now));
    }
    if ((this.#seen.get(key) ?? 0) > now) {
      throw refuse("the DPoP proof was used before");
    }
    if (this.#seen.size >= SEEN_CAPACITY) {
      throw refuse("too many DPoP proofs at once; try again");
    }
    this.#seen.set(key, until);
  }
}

/** The key and claims of a proof whose header and signature hold. */
async function open(proof: string): Promise<{ jwk: JWK; claims: JWTPayload }> {
  let header;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw refuse("the DPoP proof is not a JWT");
  }
  if (header.typ !== "dpop+jwt") {
    throw refuse("the DPoP proof's typ must be dpop+jwt");
  }
  const alg = header.alg ?? "";
  if (!PROOF_ALGORITHMS.includes(alg)) {
    throw refuse(`the DPoP proof's alg must be one of ${PROOF_ALGORITHMS.join(", ")}`);
  }
  const jwk = header.jwk;
  if (!jwk || typeof jwk !== "object") {
    throw refuse("the DPoP proof has no jwk");
  }
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) {
    throw refuse("the DPoP proof's jwk must be a public key");
  }
  if (!KEY_TYPES.includes(String(jwk.kty))) {
    throw refuse("the DPoP proof's jwk is not a usable key");
  }
  try {
    const key = await importJWK(jwk, alg);
    // The signature only: the proof's times are checked by the caller, by its iat.
    const { payload } = await compactVerify(proof, key, { algorithms: [alg] });
    return { jwk, claims: JSON.parse(new TextDecoder().decode(payload)) as JWTPayload };
  } catch {
    throw refuse("the DPoP proof's signature does not verify with its jwk");
  }
}
