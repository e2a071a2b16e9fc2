//! The gRPC adapter: tonic services that translate protobuf messages to
//! authority calls and back. The generated types in [`pb`] are public for the
//! server's wiring and for tests; the authority never sees them.

mod audit;
mod client_admin;
mod convert;
mod metadata;
mod spec;
mod token_service;

pub use audit::AuditApi;
pub use client_admin::ClientAdminApi;
pub use spec::oversized_is_resource_exhausted;
pub use token_service::TokenServiceApi;

/// The code generated from `proto/tokend/v1`.
pub mod pb {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("tokend.v1");

    /// The encoded descriptors of the contract, served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tokend_descriptor.bin"));
}
