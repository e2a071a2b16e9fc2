// Copies tokend's protobuf contract into dist/proto, where the gRPC token
// source loads it at run time. TOKEND_PROTO_DIR names another copy.
import { cpSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const from = resolve(process.env.TOKEND_PROTO_DIR ?? join(here, "..", "..", "..", "proto"));
if (!existsSync(join(from, "tokend", "v1", "token_service.proto"))) {
  console.error(`no tokend/v1/token_service.proto under ${from}; set TOKEND_PROTO_DIR`);
  process.exit(1);
}
cpSync(join(from, "tokend"), join(here, "..", "dist", "proto", "tokend"), { recursive: true });
