//! The contract: the code generated from `proto/tokend/v1`, its descriptor
//! set and the methods it names. Every adapter (gRPC, Connect, metrics)
//! imports it from here, below all of them; the authority never sees it.

/// The code generated from `proto/tokend/v1`.
pub mod pb {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("tokend.v1");

    /// The encoded descriptors of the contract, served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tokend_descriptor.bin"));
}

/// A method of a service, as its descriptor set names it.
pub struct MethodName {
    /// `/package.Service/Method`, the path it is called at.
    pub path: String,
    pub name: String,
}

/// Every method of the services in an encoded descriptor set (none if it does not decode).
pub fn methods(set: &[u8]) -> Vec<MethodName> {
    use prost::Message;
    let Ok(set) = prost_types::FileDescriptorSet::decode(set) else { return Vec::new() };
    let mut methods = Vec::new();
    for file in &set.file {
        for service in &file.service {
            for method in &service.method {
                let path = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                methods.push(MethodName { path, name: method.name().to_owned() });
            }
        }
    }
    methods
}
