//! Compiles the protobuf contract with protox (no system `protoc` needed) and
//! writes the descriptor set that server reflection serves.

use std::{env, fs, path::PathBuf};

use prost::Message;

const PROTOS: &[&str] = &[
    "proto/tokend/v1/token_service.proto",
    "proto/tokend/v1/client_admin.proto",
    "proto/tokend/v1/audit.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    fs::write(out_dir.join("tokend_descriptor.bin"), descriptors.encode_to_vec())?;
    // Struct fields keep their encoded bytes (`grpc::EncodedStruct`), so a
    // client's claims are encoded once, not in every answer.
    tonic_prost_build::configure()
        .extern_path(".google.protobuf.Struct", "crate::grpc::EncodedStruct")
        .compile_fds(descriptors)?;
    Ok(())
}
