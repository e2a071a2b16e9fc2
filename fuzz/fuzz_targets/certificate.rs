//! A client certificate as a TLS peer presents it (DER), examined as each
//! connection's certificate is.
#![no_main]

libfuzzer_sys::fuzz_target!(|der: &[u8]| {
    let _ = tokend::domain::PeerCertificate::examine(&[der], true);
});
