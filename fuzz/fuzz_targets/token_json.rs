//! The JSON body of a token request (OAuth JSON and TokenIDP dialects).
#![no_main]

libfuzzer_sys::fuzz_target!(|body: &[u8]| tokend::oauth::fuzz_token_json(body));
