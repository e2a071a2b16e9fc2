//! X.500 distinguished names as RFC 4514 writes them (`CN=orders,O=Example`),
//! compared as RFC 4517's caseIgnoreMatch does: attribute types by OID,
//! values without regard to case, surrounding spaces or runs of spaces, and
//! the values of a multi-valued RDN in any order.

use std::fmt;

use super::{InvalidValue, quoted};

/// The longest distinguished name a registration may hold.
const MAX_LEN: usize = 1024;

/// Short names of the attribute types RFC 4514 §3 lists, and a few more that
/// client certificates carry, by OID.
const SHORT_NAMES: [(&str, &str); 11] = [
    ("CN", "2.5.4.3"),
    ("L", "2.5.4.7"),
    ("ST", "2.5.4.8"),
    ("O", "2.5.4.10"),
    ("OU", "2.5.4.11"),
    ("C", "2.5.4.6"),
    ("STREET", "2.5.4.9"),
    ("DC", "0.9.2342.19200300.100.1.25"),
    ("UID", "0.9.2342.19200300.100.1.1"),
    ("SERIALNUMBER", "2.5.4.5"),
    ("EMAILADDRESS", "1.2.840.113549.1.9.1"),
];

/// One attribute: its type as a dotted OID, its value normalised for comparison.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Attribute {
    oid: String,
    value: String,
}

/// A distinguished name as written, and its RDNs most specific first (RFC
/// 4514 order) with each RDN's attributes sorted, so that equality is the
/// RFC 4514 comparison.
#[derive(Debug, Clone)]
pub struct DistinguishedName {
    text: String,
    rdns: Vec<Vec<Attribute>>,
}

impl PartialEq for DistinguishedName {
    fn eq(&self, other: &Self) -> bool {
        self.rdns == other.rdns
    }
}

impl Eq for DistinguishedName {}

impl DistinguishedName {
    /// Parses the RFC 4514 string form: RDNs separated by `,`, attributes of
    /// one RDN by `+`, each `type=value` with `\`-escapes (`\,` or `\2C`).
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let invalid =
            |why: &str| InvalidValue(format!("{} is not an RFC 4514 distinguished name: {why}", quoted(raw)));
        if raw.trim().is_empty() || raw.len() > MAX_LEN {
            return Err(invalid(&format!("it must hold 1 to {MAX_LEN} bytes")));
        }
        let mut rdns = Vec::new();
        for rdn in split_unescaped(raw, b',').map_err(invalid)? {
            let mut attributes = Vec::new();
            for attribute in split_unescaped(&rdn, b'+').map_err(invalid)? {
                let (name, value) =
                    attribute.split_once('=').ok_or_else(|| invalid("an attribute lacks '='"))?;
                let oid = attribute_oid(name.trim())
                    .ok_or_else(|| invalid(&format!("attribute type {} is unknown", quoted(name.trim()))))?;
                let value = unescape(value).map_err(invalid)?;
                attributes.push(Attribute { oid, value: normalise(&value) });
            }
            attributes.sort();
            rdns.push(attributes);
        }
        Ok(Self { text: raw.to_owned(), rdns })
    }

    /// A name from a certificate: its RDNs in the certificate's (DER) order,
    /// each a list of `(dotted OID, value)`.
    pub fn from_certificate(rdns: Vec<Vec<(String, String)>>) -> Self {
        let mut rdns: Vec<Vec<Attribute>> = rdns
            .into_iter()
            .map(|rdn| {
                let mut attributes: Vec<_> =
                    rdn.into_iter().map(|(oid, value)| Attribute { oid, value: normalise(&value) }).collect();
                attributes.sort();
                attributes
            })
            .collect();
        // DER lists the least specific RDN first; RFC 4514 the most specific.
        rdns.reverse();
        Self { text: normalised_text(&rdns), rdns }
    }
}

/// As written, or for a name read from a certificate, its normalised RFC 4514 form.
impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn normalised_text(rdns: &[Vec<Attribute>]) -> String {
    let rdns: Vec<String> = rdns
        .iter()
        .map(|rdn| {
            let attributes: Vec<String> =
                rdn.iter().map(|a| format!("{}={}", short_name(&a.oid), escape(&a.value))).collect();
            attributes.join("+")
        })
        .collect();
    rdns.join(",")
}

fn attribute_oid(name: &str) -> Option<String> {
    let dotted = name.strip_prefix("OID.").or_else(|| name.strip_prefix("oid.")).unwrap_or(name);
    if !dotted.is_empty() && dotted.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Some(dotted.to_owned());
    }
    SHORT_NAMES.iter().find(|(short, _)| short.eq_ignore_ascii_case(name)).map(|(_, oid)| (*oid).to_owned())
}

fn short_name(oid: &str) -> &str {
    SHORT_NAMES.iter().find(|(_, known)| *known == oid).map_or(oid, |(short, _)| short)
}

/// caseIgnoreMatch, near enough: lower case, no surrounding spaces, runs of spaces as one.
fn normalise(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Splits at each `separator` not escaped by a backslash, keeping escapes in the parts.
fn split_unescaped(raw: &str, separator: u8) -> Result<Vec<String>, &'static str> {
    let mut parts = Vec::new();
    let mut current = Vec::new();
    let mut bytes = raw.bytes();
    while let Some(byte) = bytes.next() {
        match byte {
            b'\\' => {
                current.push(byte);
                current.push(bytes.next().ok_or("it ends in a lone backslash")?);
            }
            _ if byte == separator => parts.push(std::mem::take(&mut current)),
            _ => current.push(byte),
        }
    }
    parts.push(current);
    parts.into_iter().map(|part| String::from_utf8(part).map_err(|_| "it is not UTF-8")).collect()
}

/// Undoes RFC 4514 escapes: `\` before a special character, or two hex digits.
fn unescape(value: &str) -> Result<String, &'static str> {
    let mut out = Vec::with_capacity(value.len());
    let bytes = value.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            out.push(bytes[at]);
            at += 1;
            continue;
        }
        // A hex pair is exactly two hex digits (`from_str_radix` alone would take "+0").
        let hex = bytes
            .get(at + 1..at + 3)
            .filter(|pair| pair.iter().all(u8::is_ascii_hexdigit))
            .and_then(|pair| std::str::from_utf8(pair).ok());
        if let Some(byte) = hex.and_then(|pair| u8::from_str_radix(pair, 16).ok()) {
            out.push(byte);
            at += 3;
        } else {
            out.push(*bytes.get(at + 1).ok_or("it ends in a lone backslash")?);
            at += 2;
        }
    }
    String::from_utf8(out).map_err(|_| "an escaped value is not UTF-8")
}

fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (at, c) in value.chars().enumerate() {
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') || (at == 0 && matches!(c, '#' | ' '))
        {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(raw in ".{0,200}") {
            let _ = DistinguishedName::parse(&raw);
        }

        #[test]
        fn a_certificate_name_written_out_reads_back_as_itself(
            rdns in proptest::collection::vec(
                proptest::collection::vec((proptest::sample::select(&SHORT_NAMES[..]), "[^\\x00-\\x1f]{1,20}"), 1..3),
                1..5,
            )
        ) {
            let rdns = rdns
                .into_iter()
                .map(|rdn| rdn.into_iter().map(|((_, oid), value)| (oid.to_owned(), value)).collect())
                .collect();
            let name = DistinguishedName::from_certificate(rdns);
            prop_assume!(name.rdns.iter().flatten().all(|attribute| !attribute.value.is_empty()));
            prop_assert_eq!(DistinguishedName::parse(&name.to_string()).unwrap(), name);
        }
    }

    fn cert(rdns: &[&[(&str, &str)]]) -> DistinguishedName {
        DistinguishedName::from_certificate(
            rdns.iter().map(|rdn| rdn.iter().map(|(o, v)| ((*o).into(), (*v).into())).collect()).collect(),
        )
    }

    #[test]
    fn the_string_form_matches_the_certificate_in_reverse_order() {
        let from_cert = cert(&[&[("2.5.4.6", "DE")], &[("2.5.4.10", "Example")], &[("2.5.4.3", "orders")]]);
        let registered = DistinguishedName::parse("CN=orders,O=Example,C=DE").unwrap();
        assert_eq!(registered, from_cert);
        assert_ne!(DistinguishedName::parse("CN=orders,O=Other,C=DE").unwrap(), from_cert);
        assert_ne!(DistinguishedName::parse("O=Example,CN=orders,C=DE").unwrap(), from_cert);
    }

    #[test]
    fn types_and_values_compare_without_case_or_extra_spaces() {
        let a = DistinguishedName::parse("cn=Orders  Worker, o=EXAMPLE").unwrap();
        let b = DistinguishedName::parse("CN=orders worker,2.5.4.10=example").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "cn=Orders  Worker, o=EXAMPLE");
        let from_cert = cert(&[&[("2.5.4.10", "EXAMPLE")], &[("2.5.4.3", "Orders Worker")]]);
        assert_eq!(from_cert.to_string(), "CN=orders worker,O=example");
    }

    #[test]
    fn escapes_and_multi_valued_rdns_are_understood() {
        let escaped = DistinguishedName::parse(r"CN=Smith\, J+UID=js,O=A\2CB").unwrap();
        let from_cert =
            cert(&[&[("2.5.4.10", "A,B")], &[("0.9.2342.19200300.100.1.1", "js"), ("2.5.4.3", "Smith, J")]]);
        assert_eq!(escaped, from_cert);
        assert_eq!(DistinguishedName::parse(&escaped.to_string()).unwrap(), escaped);
        let plus = DistinguishedName::parse(r"CN=\+0").unwrap();
        assert_eq!(plus, cert(&[&[("2.5.4.3", "+0")]]), "an escaped '+' is not the hex pair \"+0\"");
    }

    #[test]
    fn malformed_names_are_refused() {
        for bad in ["", "CN", "XX=1", r"CN=a\", "CN=a,,O=b"] {
            assert!(DistinguishedName::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
