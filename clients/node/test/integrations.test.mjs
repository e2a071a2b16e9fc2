// The calling and serving integrations against a live tokend: Express,
// grpc-js and Connect services that verify tokens locally, and clients that
// attach a TokenSource's tokens (Bearer or DPoP) to their calls.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";

import * as grpc from "@grpc/grpc-js";
import { createClient, ConnectError, Code } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import express from "express";

import { DpopKey, TokenSource, Verifier } from "../dist/index.js";
import * as connect from "../dist/connect.js";
import { claimsOf as expressClaims, requireToken } from "../dist/express.js";
import * as grpcSide from "../dist/grpc.js";
import { connectOrders, grpcOrders } from "./support/orders.mjs";
import { startTokend } from "./support/tokend.mjs";

let tokend;
let verifier;
let worker;
let reader;
let dpopWorker;
before(async () => {
  tokend = await startTokend();
  const secret = tokend.create("--id", "orders-worker", "--scopes", "orders.read orders.write", "--default-scopes", "orders.read orders.write", "--audience", "orders");
  const readerSecret = tokend.create("--id", "orders-reader", "--scopes", "orders.read", "--default-scopes", "orders.read", "--audience", "orders");
  verifier = await Verifier.discover(tokend.base, "orders");
  worker = TokenSource.overHttp(tokend.base, { clientId: "orders-worker", clientSecret: secret });
  reader = TokenSource.overHttp(tokend.base, { clientId: "orders-reader", clientSecret: readerSecret });
  dpopWorker = TokenSource.overHttp(tokend.base, { clientId: "orders-worker", clientSecret: secret }, { dpop: await DpopKey.generate() });
});
after(async () => {
  await Promise.all([worker.close(), reader.close(), dpopWorker.close(), verifier.close()]);
  await tokend.stop();
});

/** Listens on a free loopback port; resolves to the server and its origin. */
async function listening(server) {
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return `http://127.0.0.1:${server.address().port}`;
}

describe("Express", () => {
  let origin;
  let server;
  before(async () => {
    const app = express();
    app.get("/orders/:id", requireToken(verifier, { scopes: ["orders.read"] }), (req, res) => {
      res.json({ id: req.params.id, readBy: expressClaims(res).sub });
    });
    app.post("/orders", requireToken(verifier, { scopes: ["orders.write"] }), (_req, res) => {
      res.status(201).json({ placedBy: expressClaims(res).clientId });
    });
    server = createServer(app);
    origin = await listening(server);
  });
  after(() => server.close());

  const call = async (method, path, headers = {}) => {
    const answer = await fetch(`${origin}${path}`, { method, headers });
    return { status: answer.status, challenge: answer.headers.get("www-authenticate"), body: await answer.json() };
  };

  test("a valid bearer token is let through with its claims", async () => {
    const { accessToken } = await worker.token();
    const answer = await call("GET", "/orders/42", { authorization: `Bearer ${accessToken}` });
    assert.deepEqual(answer, { status: 200, challenge: null, body: { id: "42", readBy: "orders-worker" } });
  });

  test("no token is 401 with a bare Bearer challenge", async () => {
    const answer = await call("GET", "/orders/42");
    assert.equal(answer.status, 401);
    assert.equal(answer.challenge, "Bearer");
  });

  test("a forged token is invalid_token", async () => {
    const { accessToken } = await worker.token();
    const forged = accessToken.slice(0, -4) + (accessToken.endsWith("AAAA") ? "BBBB" : "AAAA");
    const answer = await call("GET", "/orders/42", { authorization: `Bearer ${forged}` });
    assert.equal(answer.status, 401);
    assert.equal(answer.body.error, "invalid_token");
    assert.match(answer.challenge, /error="invalid_token"/);
  });

  test("a token without the route's scope is 403 insufficient_scope naming it", async () => {
    const { accessToken } = await reader.token();
    const answer = await call("POST", "/orders", { authorization: `Bearer ${accessToken}` });
    assert.equal(answer.status, 403);
    assert.equal(answer.challenge, 'Bearer error="insufficient_scope", scope="orders.write"');
  });

  test("a DPoP-bound token needs a proof for this method and URL", async () => {
    const token = await dpopWorker.token();
    const key = dpopWorker.dpopKey;
    const proof = await key.proof("POST", `${origin}/orders`, { accessToken: token.accessToken });
    const ok = await call("POST", "/orders", { authorization: `DPoP ${token.accessToken}`, dpop: proof });
    assert.deepEqual(ok, { status: 201, challenge: null, body: { placedBy: "orders-worker" } });
    const replayed = await call("POST", "/orders", { authorization: `DPoP ${token.accessToken}`, dpop: proof });
    assert.equal(replayed.body.error, "invalid_dpop_proof");
    const elsewhere = await key.proof("POST", `${origin}/elsewhere`, { accessToken: token.accessToken });
    const wrongUrl = await call("POST", "/orders", { authorization: `DPoP ${token.accessToken}`, dpop: elsewhere });
    assert.equal(wrongUrl.body.error_description, "the DPoP proof is for another URL");
    const asBearer = await call("POST", "/orders", { authorization: `Bearer ${token.accessToken}` });
    assert.equal(asBearer.body.error_description, "token is DPoP-bound; present it with the DPoP scheme and a proof");
  });
});

describe("grpc-js", () => {
  const Orders = grpcOrders();
  let server;
  let address;
  before(async () => {
    server = new grpc.Server({
      interceptors: [
        grpcSide.verifyInterceptor(verifier, { scopes: ["orders.read"], methodScopes: { "/orders.v1.Orders/PlaceOrder": ["orders.write"] } }),
      ],
    });
    server.addService(Orders.service, {
      GetOrder: (call, done) => done(null, { id: call.request.id, item: "stapler", quantity: 1, placed_by: grpcSide.claimsOf(call).sub }),
      PlaceOrder: (call, done) => done(null, { id: "order-1", ...call.request, placed_by: grpcSide.claimsOf(call).clientId }),
    });
    const port = await new Promise((ok, fail) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? fail(error) : ok(bound))),
    );
    address = `127.0.0.1:${port}`;
  });
  after(() => server.forceShutdown());

  const client = (source, origin) => new Orders(address, grpc.credentials.createInsecure(), { interceptors: [grpcSide.bearerInterceptor(source, { origin })] });
  const unary = (stub, method, request) => new Promise((ok, fail) => stub[method](request, (error, answer) => (error ? fail(error) : ok(answer))));

  test("a client with the interceptor calls; the handler sees the caller", async () => {
    const placed = await unary(client(worker), "PlaceOrder", { item: "stapler", quantity: 2 });
    assert.deepEqual({ ...placed }, { id: "order-1", item: "stapler", quantity: 2, placed_by: "orders-worker" });
  });

  test("a read-only caller may read but not place: PERMISSION_DENIED", async () => {
    const stub = client(reader);
    assert.equal((await unary(stub, "GetOrder", { id: "7" })).placed_by, "orders-reader");
    await assert.rejects(unary(stub, "PlaceOrder", { item: "stapler", quantity: 1 }), (error) => error.code === grpc.status.PERMISSION_DENIED);
  });

  test("a call without a token is UNAUTHENTICATED", async () => {
    const bare = new Orders(address, grpc.credentials.createInsecure());
    await assert.rejects(unary(bare, "GetOrder", { id: "7" }), (error) => error.code === grpc.status.UNAUTHENTICATED && /no bearer token/.test(error.details));
  });

  test("a DPoP-bound token goes with a proof of the call's URL", async () => {
    const origin = `http://${address}`;
    const placed = await unary(client(dpopWorker, origin), "PlaceOrder", { item: "pen", quantity: 1 });
    assert.equal(placed.placed_by, "orders-worker");
    await assert.rejects(
      unary(client(dpopWorker, "http://elsewhere:1"), "PlaceOrder", { item: "pen", quantity: 1 }),
      (error) => error.code === grpc.status.UNAUTHENTICATED && /another URL/.test(error.details),
    );
  });

  test("a source that cannot get a token fails the call before it is sent", async () => {
    const broken = TokenSource.overHttp(tokend.base, { clientId: "orders-worker", clientSecret: "wrong" });
    await assert.rejects(unary(client(broken), "GetOrder", { id: "7" }), (error) => error.code === grpc.status.UNAUTHENTICATED && /invalid_client/.test(error.details));
    await broken.close();
  });
});

describe("Connect", () => {
  const Orders = connectOrders();
  let origin;
  let server;
  before(async () => {
    const handler = connectNodeAdapter({
      interceptors: [connect.verifyInterceptor(verifier, { scopes: ["orders.read"], methodScopes: { "/orders.v1.Orders/PlaceOrder": ["orders.write"] } })],
      routes: (router) =>
        router.service(Orders, {
          getOrder: (request, context) => ({ id: request.id, item: "stapler", quantity: 1, placedBy: context.values.get(connect.claimsKey).sub }),
          placeOrder: (request, context) => ({ id: "order-1", item: request.item, quantity: request.quantity, placedBy: context.values.get(connect.claimsKey).clientId }),
        }),
    });
    server = createServer(handler);
    origin = await listening(server);
  });
  after(() => server.close());

  const client = (source) =>
    createClient(Orders, createConnectTransport({ baseUrl: origin, httpVersion: "1.1", interceptors: source ? [connect.bearerInterceptor(source)] : [] }));

  test("a client with the interceptor calls; the handler sees the caller", async () => {
    const placed = await client(worker).placeOrder({ item: "stapler", quantity: 3 });
    assert.equal(placed.placedBy, "orders-worker");
    assert.equal(placed.quantity, 3);
  });

  test("a read-only caller may read but not place; no token is Unauthenticated", async () => {
    assert.equal((await client(reader).getOrder({ id: "7" })).placedBy, "orders-reader");
    await assert.rejects(client(reader).placeOrder({ item: "pen", quantity: 1 }), (error) => ConnectError.from(error).code === Code.PermissionDenied);
    await assert.rejects(client().getOrder({ id: "7" }), (error) => ConnectError.from(error).code === Code.Unauthenticated);
  });

  test("a DPoP-bound token goes with a proof of the request's URL", async () => {
    const placed = await client(dpopWorker).placeOrder({ item: "pen", quantity: 1 });
    assert.equal(placed.placedBy, "orders-worker");
  });
});
