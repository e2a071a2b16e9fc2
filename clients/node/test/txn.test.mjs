// Transaction Tokens in Node against a live tokend: the edge exchanges an
// access token for one, two grpc-js services verify it in turn (the first
// passing it on through a propagating interceptor), Express and Connect
// verify it too, and a missing, mistyped or narrow one is refused.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { promisify } from "node:util";

import * as grpc from "@grpc/grpc-js";
import { createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import express from "express";

import { currentTxnToken, runWithTxnToken, TokenSource, TxnEdge, txnHeaders, TxnVerifier } from "../dist/index.js";
import * as connect from "../dist/connect.js";
import { requireTxnToken } from "../dist/express.js";
import { propagateTxnInterceptor, txnOf, txnTokenInterceptor, withCurrentTxnToken } from "../dist/grpc.js";
import { connectHop, grpcHop } from "./support/orders.mjs";
import { startTokend } from "./support/tokend.mjs";

let tokend;
let edge;
let verifier;
let accessToken;
before(async () => {
  tokend = await startTokend();
  const worker = tokend.create("--id", "orders-worker", "--scopes", "orders.read orders.write", "--default-scopes", "orders.read orders.write");
  const edgeSecret = tokend.create("--id", "node-edge", "--txn-token-requester");
  edge = new TxnEdge(tokend.base, { clientId: "node-edge", clientSecret: edgeSecret }, tokend.base);
  verifier = await TxnVerifier.discover(tokend.base, tokend.base);
  const source = TokenSource.overHttp(tokend.base, { clientId: "orders-worker", clientSecret: worker });
  accessToken = (await source.token()).accessToken;
  await source.close();
});
after(async () => {
  await edge.close();
  await tokend.stop();
});

const Hop = grpcHop();

/** Serves `visit` behind txnTokenInterceptor; resolves to the server and its address. */
async function hop(visit, scopes = []) {
  const server = new grpc.Server({ interceptors: [txnTokenInterceptor(verifier, { scopes })] });
  server.addService(Hop.service, withCurrentTxnToken({ Visit: visit }));
  const port = await new Promise((ok, fail) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? fail(error) : ok(bound))),
  );
  return [server, `127.0.0.1:${port}`];
}

const visitAt = (address, token) => {
  const client = new Hop(address, grpc.credentials.createInsecure(), { interceptors: [propagateTxnInterceptor()] });
  const metadata = new grpc.Metadata();
  if (token) {
    metadata.set("txn-token", token);
  }
  return promisify((request, done) => client.Visit(request, metadata, done))({ purpose: "buy" });
};

test("the edge token passes two hops unchanged and each sees one transaction", async () => {
  const token = await edge.exchange(accessToken, "orders.read", { requestDetails: { action: "list" } });
  const claims = await verifier.verify(token, { scopes: ["orders.read"] });
  assert.deepEqual([claims.sub, claims.req_wl, claims.tctx.action], ["orders-worker", "node-edge", "list"]);
  const seen = (service, call) => ({ service, txn: txnOf(call).claims.txn, sub: txnOf(call).claims.sub, req_wl: txnOf(call).claims.req_wl, scope: "" });
  const [ledger, ledgerAddress] = await hop((call, done) => done(null, { seen: [seen("ledger", call)] }), ["orders.read"]);
  const [payments, paymentsAddress] = await hop((call, done) => {
    // No token passed by hand: the propagating interceptor sends the current one.
    visitAt(ledgerAddress).then((onward) => done(null, { seen: [seen("payments", call), ...onward.seen] }), done);
  });
  try {
    const reply = await visitAt(paymentsAddress, token);
    assert.deepEqual(
      reply.seen.map((one) => [one.service, one.txn, one.sub, one.req_wl]),
      [["payments", claims.txn, "orders-worker", "node-edge"], ["ledger", claims.txn, "orders-worker", "node-edge"]],
    );
    await assert.rejects(visitAt(paymentsAddress), (error) => error.code === grpc.status.UNAUTHENTICATED && error.details === "no Transaction Token (txn-token)");
    await assert.rejects(visitAt(paymentsAddress, accessToken), (error) => error.details === "not a Transaction Token (typ)");
    const narrow = await edge.exchange(accessToken, "orders.write");
    await assert.rejects(visitAt(ledgerAddress, narrow), (error) => error.code === grpc.status.PERMISSION_DENIED);
  } finally {
    payments.forceShutdown();
    ledger.forceShutdown();
  }
});

test("Express verifies it and hands it on; a client that is no requester gets none", async () => {
  const app = express();
  app.get("/who", requireTxnToken(verifier, { scopes: ["orders.read"] }), (_req, res) => {
    res.json({ sub: currentTxnToken().claims.sub, onward: txnHeaders() });
  });
  const server = createServer(app);
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const url = `http://127.0.0.1:${server.address().port}/who`;
  try {
    const token = await edge.exchange(accessToken, "orders.read");
    const answer = await fetch(url, { headers: { "txn-token": token } });
    assert.deepEqual(await answer.json(), { sub: "orders-worker", onward: { "txn-token": token } });
    const missing = await fetch(url);
    assert.equal(missing.status, 401);
    assert.deepEqual(txnHeaders(), {}, "nothing current outside a request");
  } finally {
    server.close();
  }
  const stranger = new TxnEdge(tokend.base, { clientId: "orders-worker", clientSecret: "not-its-secret" }, tokend.base);
  await assert.rejects(stranger.exchange(accessToken, "orders.read"), (error) => error.error === "invalid_client");
  await stranger.close();
});

test("Connect verifies it, and a Connect client sends the current one on", async () => {
  const Chain = connectHop();
  const handler = connectNodeAdapter({
    interceptors: [connect.verifyTxnInterceptor(verifier)],
    routes: (router) =>
      router.service(Chain, {
        visit: (_request, context) => {
          const txn = context.values.get(connect.txnKey);
          return { seen: [{ service: "connect", txn: txn.claims.txn, sub: currentTxnToken().claims.sub, reqWl: txn.claims.req_wl, scope: txn.claims.scope }] };
        },
      }),
  });
  const server = createServer(handler);
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const client = createClient(
    Chain,
    createConnectTransport({ baseUrl: `http://127.0.0.1:${server.address().port}`, httpVersion: "1.1", interceptors: [connect.propagateTxnInterceptor()] }),
  );
  try {
    const token = await edge.exchange(accessToken, "orders.read");
    const claims = await verifier.verify(token);
    const reply = await runWithTxnToken({ token, claims }, () => client.visit({ purpose: "buy" }));
    assert.deepEqual([reply.seen[0].txn, reply.seen[0].sub], [claims.txn, "orders-worker"]);
    await assert.rejects(client.visit({ purpose: "buy" }), /no Transaction Token/);
  } finally {
    server.close();
  }
});
