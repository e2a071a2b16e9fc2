//! The JSON body of a Connect call, for the method the first byte picks:
//! read into the method's message and written back.
#![no_main]

libfuzzer_sys::fuzz_target!(|body: &[u8]| tokend::connect::fuzz_json(body));
