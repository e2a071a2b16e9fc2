// The example services of clients/rust/examples/proto (orders, and the chain
// of Transaction Tokens), for gRPC (loaded by proto-loader) and Connect
// (their descriptors, made by protobufjs).

import { join, resolve } from "node:path";

import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";

const PROTOS = join(resolve(import.meta.dirname, "..", "..", ".."), "rust", "examples", "proto");
export const ORDERS_PROTO = join(PROTOS, "orders.proto");
/** The example call chain of Transaction Tokens. */
export const CHAIN_PROTO = join(PROTOS, "chain.proto");

/** The grpc-js service definition and client constructor of orders.v1.Orders. */
export function grpcOrders() {
  const loaded = grpc.loadPackageDefinition(loadSync(ORDERS_PROTO, { keepCase: true, defaults: true }));
  return loaded.orders.v1.Orders;
}

/** The grpc-js service definition and client constructor of chain.v1.Hop. */
export function grpcHop() {
  const loaded = grpc.loadPackageDefinition(loadSync(CHAIN_PROTO, { keepCase: true, defaults: true }));
  return loaded.chain.v1.Hop;
}

/** The Connect descriptor of the service `name` in `proto`. */
function connectService(proto, name) {
  const set = protobuf.loadSync(proto).toDescriptor("proto3");
  // protobufjs names a field's message type relative to its package; the registry wants it fully qualified.
  for (const file of set.file) {
    for (const message of file.messageType) {
      for (const field of message.field) {
        if (field.typeName && !field.typeName.startsWith(".")) {
          field.typeName = `.${file.package}.${field.typeName}`;
        }
      }
    }
  }
  const bytes = descriptor.FileDescriptorSet.encode(set).finish();
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes)).getService(name);
}

/** The Connect descriptor of orders.v1.Orders. */
export function connectOrders() {
  return connectService(ORDERS_PROTO, "orders.v1.Orders");
}

/** The Connect descriptor of chain.v1.Hop. */
export function connectHop() {
  return connectService(CHAIN_PROTO, "chain.v1.Hop");
}
