// How a TokenSource proves who its client is: a secret, a private key that
// signs a fresh `private_key_jwt` assertion (RFC 7523) for every request, a
// platform's token read from a file for every request (a Kubernetes
// projected service-account token, which the kubelet rewrites), or nothing
// beyond the client id when the TLS client certificate proves it.

import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";

import { importPKCS8, SignJWT } from "jose";

/** `client_assertion_type` of a JWT (RFC 7523 §2.2). */
export const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** How long a signed assertion lives, in seconds: long enough to cross the network. */
const ASSERTION_LIFETIME_SECONDS = 60;

/** A client registered with `private_key_jwt`: its PKCS#8 PEM key, the key's `kid` and algorithm. */
export interface PrivateKeyCredential {
  pem: string;
  kid: string;
  /** ES256, ES384, EdDSA, RS256 or PS256. */
  alg: string;
  /** The assertion's `aud`: tokend's issuer (by default, the HTTP source's issuer). */
  audience?: string;
}

/**
 * Who the source's client is and how it proves it: exactly one of
 * `clientSecret`, `privateKey` or `assertionFile`, or none of them for a
 * client whose TLS client certificate proves it (`tls_client_auth`).
 */
export interface ClientCredentials {
  clientId: string;
  clientSecret?: string;
  privateKey?: PrivateKeyCredential;
  /** A file holding a platform token one of the client's federated identities accepts; read for every request. */
  assertionFile?: string;
}

/** What one request carries to prove the client: the token request's own field names. */
export interface ProofFields {
  client_id: string;
  client_secret?: string;
  client_assertion_type?: string;
  client_assertion?: string;
}

/** Makes the proof for each request: a fresh assertion each time, as a retried one would be a replay. */
export type Prover = () => Promise<ProofFields>;

/** The members a `ClientCredentials` may have; any other is a mistake, refused rather than ignored. */
const CREDENTIAL_MEMBERS = new Set(["clientId", "clientSecret", "privateKey", "assertionFile"]);

export function prover(credentials: ClientCredentials, issuer: string | undefined): Prover {
  for (const member of Object.keys(credentials)) {
    if (member === "dpop") {
      throw new TypeError("dpop is an option of the token source, not of its credentials: pass { dpop } as the third argument");
    }
    if (!CREDENTIAL_MEMBERS.has(member)) {
      throw new TypeError(`the credentials have no member ${JSON.stringify(member)}: give clientId and one of clientSecret, privateKey, assertionFile`);
    }
  }
  const { clientId, clientSecret, privateKey, assertionFile } = credentials;
  if ([clientSecret, privateKey, assertionFile].filter((given) => given !== undefined).length > 1) {
    throw new TypeError("give one of clientSecret, privateKey and assertionFile");
  }
  if (clientSecret !== undefined) {
    return async () => ({ client_id: clientId, client_secret: clientSecret });
  }
  if (assertionFile !== undefined) {
    return async () => ({
      client_id: clientId,
      client_assertion_type: JWT_BEARER,
      client_assertion: (await readFile(assertionFile, "utf8")).trim(),
    });
  }
  if (privateKey !== undefined) {
    const audience = privateKey.audience ?? issuer;
    if (audience === undefined) {
      throw new TypeError("privateKey.audience must name tokend's issuer");
    }
    const key = importPKCS8(privateKey.pem, privateKey.alg);
    return async () => ({
      client_id: clientId,
      client_assertion_type: JWT_BEARER,
      client_assertion: await new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: privateKey.alg, kid: privateKey.kid })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(`${ASSERTION_LIFETIME_SECONDS}s`)
        .sign(await key),
    });
  }
  return async () => ({ client_id: clientId });
}
