// One internal service of the example call chain of Transaction Tokens, in
// Node: a chain.v1.Hop gRPC service behind txnTokenInterceptor that says what
// it saw and visits the next service, if any, through propagateTxnInterceptor,
// which sends the same token on.
//   TOKEND_ISSUER=http://127.0.0.1:50051 HOP_NAME=ledger HOP_LISTEN=127.0.0.1:50063 node txn_hop.mjs

import { join } from "node:path";

import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { TxnVerifier } from "tokend-client";
import { propagateTxnInterceptor, txnOf, txnTokenInterceptor, withCurrentTxnToken } from "tokend-client/grpc";

const proto = join(import.meta.dirname, "..", "..", "rust", "examples", "proto", "chain.proto");
const { Hop } = grpc.loadPackageDefinition(loadSync(proto, { keepCase: true, defaults: true })).chain.v1;

const issuer = process.env.TOKEND_ISSUER ?? "http://127.0.0.1:50051";
const verifier = await TxnVerifier.discover(issuer, process.env.TXN_TRUST_DOMAIN ?? issuer);
const nextAddress = (process.env.HOP_NEXT ?? "").replace(/^http:\/\//, "");
const next = nextAddress
  ? new Hop(nextAddress, grpc.credentials.createInsecure(), { interceptors: [propagateTxnInterceptor()] })
  : undefined;
const name = process.env.HOP_NAME ?? "hop";

const server = new grpc.Server({ interceptors: [txnTokenInterceptor(verifier)] });
server.addService(
  Hop.service,
  withCurrentTxnToken({
    Visit(call, done) {
      const { claims } = txnOf(call);
      const seen = [{ service: name, txn: claims.txn, sub: claims.sub, req_wl: claims.req_wl, scope: claims.scope }];
      if (!next) {
        done(null, { seen });
        return;
      }
      next.Visit(call.request, (error, onward) => (error ? done(error) : done(null, { seen: [...seen, ...onward.seen] })));
    },
  }),
);
server.bindAsync(process.env.HOP_LISTEN ?? "127.0.0.1:50063", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    throw error;
  }
  console.log(`hop listening on 127.0.0.1:${port}`);
});
