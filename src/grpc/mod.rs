//! The gRPC adapter: tonic services that translate the contract's protobuf
//! messages (`crate::contract`) to authority calls and back.

mod audit;
mod client_admin;
mod convert;
mod encoded_struct;
mod metadata;
pub mod reflection;
mod spec;
mod token_service;

pub use audit::AuditApi;
pub use client_admin::ClientAdminApi;
pub use encoded_struct::EncodedStruct;
pub use spec::statuses_as_the_spec_says;
pub use token_service::TokenServiceApi;
