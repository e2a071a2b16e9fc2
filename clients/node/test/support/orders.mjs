// The example Orders service of clients/rust/examples/proto/orders.proto, for
// gRPC (loaded by proto-loader) and Connect (its descriptor, made by protobufjs).

import { join, resolve } from "node:path";

import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";

export const ORDERS_PROTO = join(resolve(import.meta.dirname, "..", "..", ".."), "rust", "examples", "proto", "orders.proto");

/** The grpc-js service definition and client constructor of orders.v1.Orders. */
export function grpcOrders() {
  const loaded = grpc.loadPackageDefinition(loadSync(ORDERS_PROTO, { keepCase: true, defaults: true }));
  return loaded.orders.v1.Orders;
}

/** The Connect descriptor of orders.v1.Orders. */
export function connectOrders() {
  const set = protobuf.loadSync(ORDERS_PROTO).toDescriptor("proto3");
  const bytes = descriptor.FileDescriptorSet.encode(set).finish();
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes)).getService("orders.v1.Orders");
}
