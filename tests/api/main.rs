//! Integration tests: the real server on 127.0.0.1:0, called with the generated
//! tonic clients, each test on a fresh SQLite file and a fresh PostgreSQL database.

#[macro_use]
mod support;

mod abuse;
mod audit;
mod claims;
mod cli;
mod client_admin;
mod client_keys;
mod config_file;
mod connect;
mod connections;
mod crash;
mod disk_full;
mod dpop;
mod durability;
mod exchange;
mod federation;
mod fleet;
mod grant_types;
mod hsm;
mod http_compat;
mod http_discovery;
mod http_introspection;
mod http_token;
mod introspect;
mod issue_token;
mod jwt_bearer_grant;
mod key_schedule;
mod key_sealing;
mod metrics;
mod mtls;
mod private_key_jwt;
mod probes;
mod proxy_certificates;
mod registration;
mod revoke;
mod service;
mod signed_introspection;
mod status_list;
mod tls;
mod txn_tokens;
