//! The form body of the token, introspection and revocation endpoints.
#![no_main]

libfuzzer_sys::fuzz_target!(|body: &[u8]| tokend::oauth::fuzz_form(body));
