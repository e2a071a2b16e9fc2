// The example worker in Node: places and reads orders at the "orders" API
// (in Node, Python or Rust) with cached tokens, then shows a read-only token
// refused. The client needs scopes orders.read orders.write and audience orders.
//   TOKEND_URL=127.0.0.1:50051 ORDERS_URL=127.0.0.1:50052 TOKEND_CLIENT_ID=orders-worker \
//     TOKEND_CLIENT_SECRET=… node orders_worker.mjs

import { join } from "node:path";
import { promisify } from "node:util";

import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { TokenSource } from "tokend-client";
import { bearerInterceptor } from "tokend-client/grpc";

const proto = join(import.meta.dirname, "..", "..", "rust", "examples", "proto", "orders.proto");
const { Orders } = grpc.loadPackageDefinition(loadSync(proto, { keepCase: true, defaults: true })).orders.v1;
const address = (name, fallback) => (process.env[name] ?? fallback).replace(/^http:\/\//, "");

const source = TokenSource.overGrpc(address("TOKEND_URL", "127.0.0.1:50051"), {
  clientId: process.env.TOKEND_CLIENT_ID,
  clientSecret: process.env.TOKEND_CLIENT_SECRET,
});
/** A client of the API whose every call carries a cached token for `scope`. */
const ordersWith = (scope) => {
  const stub = new Orders(address("ORDERS_URL", "127.0.0.1:50052"), grpc.credentials.createInsecure(), {
    interceptors: [bearerInterceptor(source, { scope, audience: ["orders"] })],
  });
  return { place: promisify(stub.PlaceOrder.bind(stub)), get: promisify(stub.GetOrder.bind(stub)) };
};

const orders = ordersWith("orders.read orders.write");
for (const [item, quantity] of [["paper", 500], ["toner", 2], ["stapler", 1]]) {
  const placed = await orders.place({ item, quantity });
  console.log(`placed ${placed.id} (${placed.quantity} × ${placed.item}) as ${placed.placed_by}`);
}
const order = await orders.get({ id: "order-1" });
console.log(`read back ${order.id}: ${order.quantity} × ${order.item}`);

// A read-only token may read but not place orders.
try {
  await ordersWith("orders.read").place({ item: "pens", quantity: 10 });
  console.error("a read-only token should have been refused");
  process.exitCode = 1;
} catch (refused) {
  if (refused.code !== grpc.status.PERMISSION_DENIED) {
    throw refused;
  }
  console.log(`read-only token refused as expected: ${refused.details}`);
}
await source.close();
process.exit();
