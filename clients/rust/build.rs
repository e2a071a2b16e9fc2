//! Generates the tokend gRPC client from the contract in `proto/` (protox, no
//! system `protoc`), and the example services used by `examples/`: "orders",
//! and the "chain" of Transaction Tokens.

const TOKEND_PROTOS: &[&str] = &["tokend/v1/token_service.proto", "tokend/v1/client_admin.proto"];
const EXAMPLE_PROTOS: &[&str] = &["orders.proto", "chain.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=../../proto");
    println!("cargo:rerun-if-changed=examples/proto");
    let tokend = protox::compile(TOKEND_PROTOS, ["../../proto"])?;
    tonic_prost_build::configure().build_server(false).compile_fds(tokend)?;
    let orders = protox::compile(EXAMPLE_PROTOS, ["examples/proto"])?;
    tonic_prost_build::configure().compile_fds(orders)?;
    Ok(())
}
