// The example resource server in Node: the "orders" API (the Rust examples'
// orders.proto) behind verifyInterceptor. GetOrder needs orders.read,
// PlaceOrder orders.write; tokens must be for the audience "orders", and
// each order records the client that placed it.
//   TOKEND_ISSUER=http://127.0.0.1:50051 ORDERS_LISTEN=127.0.0.1:50052 node orders_api.mjs

import { join } from "node:path";

import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { Verifier } from "tokend-client";
import { claimsOf, verifyInterceptor } from "tokend-client/grpc";

const proto = join(import.meta.dirname, "..", "..", "rust", "examples", "proto", "orders.proto");
const { Orders } = grpc.loadPackageDefinition(loadSync(proto, { keepCase: true, defaults: true })).orders.v1;

const verifier = await Verifier.discover(process.env.TOKEND_ISSUER ?? "http://127.0.0.1:50051", "orders");
const methodScopes = { "/orders.v1.Orders/GetOrder": ["orders.read"], "/orders.v1.Orders/PlaceOrder": ["orders.write"] };
const server = new grpc.Server({ interceptors: [verifyInterceptor(verifier, { methodScopes })] });

const orders = new Map();
server.addService(Orders.service, {
  PlaceOrder(call, done) {
    const id = `order-${orders.size + 1}`;
    const order = { id, item: call.request.item, quantity: call.request.quantity, placed_by: claimsOf(call).clientId };
    orders.set(id, order);
    done(null, order);
  },
  GetOrder(call, done) {
    const order = orders.get(call.request.id);
    done(order ? null : { code: grpc.status.NOT_FOUND, details: `no order ${call.request.id}` }, order);
  },
});

server.bindAsync(process.env.ORDERS_LISTEN ?? "127.0.0.1:50052", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    throw error;
  }
  console.log(`orders API listening on 127.0.0.1:${port}`);
});
