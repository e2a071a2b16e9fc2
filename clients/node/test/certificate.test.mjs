// A client that proves itself with its TLS certificate (tls_client_auth)
// gets certificate-bound tokens from a tokend serving mutual TLS, over HTTPS
// and gRPC; the Verifier (keys found over HTTPS with the test CA) accepts
// them only from a caller presenting that certificate.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";

import { InvalidToken, TokenSource, Verifier } from "../dist/index.js";
import { claimsOf, startTokend } from "./support/tokend.mjs";

const pki = mkdtempSync(join(tmpdir(), "tokend-pki-"));
const read = (name) => readFileSync(join(pki, name));
let tokend;
before(async () => {
  execFileSync(resolve(import.meta.dirname, "..", "..", "tls", "make-test-certificates.sh"), [pki]);
  tokend = await startTokend(["--tls-cert", join(pki, "server.pem"), "--tls-key", join(pki, "server.key"), "--tls-client-ca", join(pki, "ca.pem")]);
  tokend.cli("client", "create", "--id", "mesh-worker", "--scopes", "orders.read", "--default-scopes", "orders.read", "--audience", "orders",
    "--auth-method", "tls_client_auth", "--tls-san-uri", "spiffe://example.org/ns/orders/sa/worker", "--bound-tokens");
});
after(async () => {
  await tokend.stop();
  rmSync(pki, { recursive: true, force: true });
});

test("tokens got with the client certificate over HTTPS and gRPC verify only with that certificate", async () => {
  const tls = { ca: read("ca.pem"), cert: read("workload.pem"), key: read("workload.key") };
  const sources = [
    TokenSource.overHttp(tokend.base, { clientId: "mesh-worker" }, tls),
    TokenSource.overGrpc(tokend.address, { clientId: "mesh-worker" }, tls),
  ];
  const workload = new X509Certificate(read("workload.pem")).raw;
  const server = new X509Certificate(read("server.pem")).raw;
  const verifier = await Verifier.discover(tokend.base, "orders", { ca: read("ca.pem") });
  for (const source of sources) {
    const { accessToken } = await source.token();
    assert.ok(claimsOf(accessToken).cnf["x5t#S256"]);
    assert.equal((await verifier.verify(accessToken, { certificateDer: workload })).clientId, "mesh-worker");
    const refusals = [
      [undefined, "token is bound to a client certificate and none was presented"],
      [server, "token is bound to another client certificate"],
    ];
    for (const [certificateDer, why] of refusals) {
      await assert.rejects(verifier.verify(accessToken, { certificateDer }), (error) => error instanceof InvalidToken && error.description === why);
    }
    await source.close();
  }
  await verifier.close();
});

test("without the client certificate, tokend refuses the client", async () => {
  const source = TokenSource.overHttp(tokend.base, { clientId: "mesh-worker" }, { ca: read("ca.pem") });
  await assert.rejects(source.token(), (error) => error.error === "invalid_client");
  await source.close();
});
