//! Authorization values (Basic, Bearer, anything) with a body client id and
//! secret, reconciled as every call does. The input is split at 0xff bytes:
//! up to three header values, then the id, then the secret.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| {
    let mut parts: Vec<&[u8]> = input.split(|&b| b == 0xff).collect();
    let secret = String::from_utf8_lossy(parts.pop().unwrap_or_default()).into_owned();
    let client_id = String::from_utf8_lossy(parts.pop().unwrap_or_default()).into_owned();
    parts.truncate(3);
    tokend::authority::fuzz_credentials(parts, client_id, secret);
});
