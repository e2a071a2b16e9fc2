//! Text an administrator registers: scopes, audiences, subject DNs, SANs and
//! JWK Sets, parsed as ClientAdmin does.
#![no_main]

use tokend::domain::{AudienceList, CertificateSubject, DistinguishedName, Jwks, ScopeSet};

libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = ScopeSet::parse_delimited(text);
    let _ = AudienceList::parse_each(text.split(' '));
    if let Ok(name) = DistinguishedName::parse(text) {
        // What is written out must read back as the same name.
        assert_eq!(DistinguishedName::parse(&name.to_string()).ok(), Some(name));
    }
    let _ = CertificateSubject::parse("", text, "");
    let _ = Jwks::parse(text);
});
