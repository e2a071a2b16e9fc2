// DPoP (RFC 9449) for callers: a key pair the client keeps, and the proofs
// it signs with it, one per request: for tokend's token endpoint (which then
// binds the token to the key) and, with `ath`, for every call that presents
// such a token.

import { randomUUID } from "node:crypto";

import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";

import { sha256 } from "./dpopCheck.js";

/** A client's DPoP key (ES256). Shows its thumbprint, nothing of the key. */
export class DpopKey {
  /** The RFC 7638 thumbprint a bound token's `cnf.jkt` names. */
  readonly thumbprint: string;
  readonly #privateKey: CryptoKey;
  readonly #publicJwk: JWK;

  private constructor(privateKey: CryptoKey, publicJwk: JWK, thumbprint: string) {
    this.#privateKey = privateKey;
    this.#publicJwk = publicJwk;
    this.thumbprint = thumbprint;
  }

  /** A new P-256 key, kept in memory only. */
  static async generate(): Promise<DpopKey> {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const jwk = await exportJWK(publicKey);
    return new DpopKey(privateKey, jwk, await calculateJwkThumbprint(jwk, "sha256"));
  }

  /** A proof for one `method` `url` call; with `accessToken`, for a call presenting it (`ath`). */
  async proof(method: string, url: string, options: { accessToken?: string; nonce?: string } = {}): Promise<string> {
    const target = new URL(url);
    const claims: Record<string, unknown> = {
      htm: method,
      htu: `${target.protocol}//${target.host}${target.pathname}`,
      jti: randomUUID(),
    };
    if (options.accessToken !== undefined) {
      claims.ath = sha256(options.accessToken);
    }
    if (options.nonce !== undefined) {
      claims.nonce = options.nonce;
    }
    return new SignJWT(claims)
      .setProtectedHeader({ typ: "dpop+jwt", alg: "ES256", jwk: this.#publicJwk })
      .setIssuedAt()
      .sign(this.#privateKey);
  }

  toString(): string {
    return `DpopKey(${this.thumbprint})`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}
