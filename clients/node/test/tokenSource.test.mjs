// The TokenSource against a live tokend, over HTTP and gRPC: cached tokens,
// one fetch for many callers, each credential kind, DPoP binding, and the
// errors a caller gets.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { exportJWK, exportPKCS8, generateKeyPair } from "jose";

import { DpopKey, GrpcTransport, HttpTransport, TokenError, TokenSource } from "../dist/index.js";
import { claimsOf, startTokend } from "./support/tokend.mjs";

let tokend;
let secret;
before(async () => {
  tokend = await startTokend();
  secret = tokend.create("--id", "orders-worker", "--scopes", "orders.read orders.write", "--default-scopes", "orders.read", "--audience", "orders");
});
after(() => tokend.stop());

const transports = {
  http: (credentials, options) => new HttpTransport(tokend.base, credentials, options),
  grpc: (credentials, options) => new GrpcTransport(tokend.address, credentials, { origin: tokend.base, ...options }),
};

/** A source over `transport` that counts the requests it sends. */
function counted(transport, options) {
  const counter = { calls: 0 };
  const source = new TokenSource(
    {
      issue: (scope, audience) => {
        counter.calls += 1;
        return transport.issue(scope, audience);
      },
      close: () => transport.close(),
    },
    options,
  );
  return [source, counter];
}

for (const [name, transport] of Object.entries(transports)) {
  const make = (credentials, options = {}) => new TokenSource(transport(credentials, options), options);
  describe(`over ${name}`, () => {
    test("many callers at once share one token, fetched once and cached per scope", async () => {
      const [source, counter] = counted(transport({ clientId: "orders-worker", clientSecret: secret }));
      const tokens = await Promise.all(Array.from({ length: 20 }, () => source.token({ scope: "orders.write" })));
      assert.equal(new Set(tokens.map((token) => token.accessToken)).size, 1);
      assert.equal(tokens[0].scope, "orders.write");
      assert.equal(tokens[0].tokenType, "Bearer");
      assert.equal(claimsOf(tokens[0].accessToken).scope, "orders.write");
      assert.equal((await source.token({ scope: "orders.write" })).accessToken, tokens[0].accessToken);
      const defaults = await source.token();
      assert.notEqual(defaults.accessToken, tokens[0].accessToken);
      assert.equal(claimsOf(defaults.accessToken).scope, "orders.read");
      assert.equal(counter.calls, 2);
      await source.close();
    });

    test("a wrong secret is invalid_client, not retried", async () => {
      const source = make({ clientId: "orders-worker", clientSecret: "wrong" });
      await assert.rejects(source.token(), (error) => error instanceof TokenError && error.error === "invalid_client" && !error.retryable);
      await source.close();
    });

    test("a scope the client may not have is invalid_scope", async () => {
      const source = make({ clientId: "orders-worker", clientSecret: secret });
      await assert.rejects(source.token({ scope: "tokend.admin" }), (error) => error.error === "invalid_scope");
      await source.close();
    });

    test("with a DPoP key, the token is bound to it and typed DPoP", async () => {
      const dpop = await DpopKey.generate();
      const source = make({ clientId: "orders-worker", clientSecret: secret }, { dpop });
      const token = await source.token();
      assert.equal(token.tokenType, "DPoP");
      assert.equal(claimsOf(token.accessToken).cnf.jkt, dpop.thumbprint);
      assert.equal(source.dpopKey, dpop);
      assert.doesNotMatch(String(dpop), /"d"/);
      await source.close();
    });

    test("a private_key_jwt client signs a fresh assertion for each request", async () => {
      const id = `signer-${name}`;
      const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
      const jwks = join(tmpdir(), `${id}-${process.pid}.json`);
      writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" }] }));
      tokend.cli("client", "create", "--id", id, "--scopes", "orders.read", "--auth-method", "private_key_jwt", "--jwks-file", jwks);
      const pem = await exportPKCS8(privateKey);
      const source = make({ clientId: id, privateKey: { pem, kid: "k1", alg: "ES256" } });
      const first = await source.token({ scope: "orders.read" });
      const second = await source.token({ scope: "orders.read", audience: [] });
      assert.equal(first, second);
      assert.equal(claimsOf((await source.token()).accessToken).client_id, id);
      const wrongKid = make({ clientId: id, privateKey: { pem, kid: "k2", alg: "ES256" } });
      await assert.rejects(wrongKid.token(), (error) => error.error === "invalid_client");
      await Promise.all([source.close(), wrongKid.close()]);
    });

    test("a rate-limited fetch waits as long as tokend says, then succeeds", async () => {
      const id = `limited-${name}`;
      const limited = tokend.create("--id", id, "--scopes", "orders.read orders.write", "--rate-limit", "1", "--burst", "1");
      const [source, counter] = counted(transport({ clientId: id, clientSecret: limited }));
      await source.token({ scope: "orders.read" });
      const started = performance.now();
      const token = await source.token({ scope: "orders.write" }); // the bucket is empty: refused with a delay, then a token
      assert.equal(token.scope, "orders.write");
      assert.equal(counter.calls, 3);
      assert.ok(performance.now() - started >= 500, "it waited for the bucket to refill");
      await source.close();
    });

    test("a dpop key or any unknown member among the credentials is refused, not ignored", async () => {
      const dpop = await DpopKey.generate();
      assert.throws(() => transport({ clientId: "orders-worker", clientSecret: secret, dpop }), /third argument/);
      assert.throws(() => transport({ clientId: "orders-worker", clientSecret: secret, scope: "x" }), /no member "scope"/);
    });
  });
}
