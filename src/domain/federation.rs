//! Workload identity federation: which external workloads act as a client.
//! A federated identity names a trusted issuer, a subject (exact, or a
//! pattern) and claims that must hold; a token from that issuer that
//! matches one of a client's identities authenticates the client.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{InvalidValue, quoted};

/// The longest issuer, subject pattern, claim name or claim value.
const MAX_TEXT: usize = 1024;
/// How many identities a client may have, and claims an identity may require.
pub const MAX_IDENTITIES: usize = 32;
const MAX_CLAIMS: usize = 16;

/// A subject: an exact string, or a pattern where `*` stands for any run of
/// characters within one `:`- or `/`-separated segment and `**` for any run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectPattern(String);

impl SubjectPattern {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.is_empty() || raw.len() > MAX_TEXT || raw.chars().any(char::is_control) {
            return Err(InvalidValue(format!(
                "subject {} must be 1 to {MAX_TEXT} characters without control characters",
                quoted(raw)
            )));
        }
        if raw.contains("***") {
            return Err(InvalidValue(format!("subject {} has a run of three or more '*'", quoted(raw))));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `subject` matches, in time proportional to the product of the
    /// two lengths, whatever the pattern.
    pub fn matches(&self, subject: &str) -> bool {
        let pattern: Vec<char> = self.0.chars().collect();
        let subject: Vec<char> = subject.chars().collect();
        // matched[j]: the pattern read so far matches subject[..j].
        let mut matched = vec![false; subject.len() + 1];
        matched[0] = true;
        let mut i = 0;
        while i < pattern.len() {
            let mut next = vec![false; subject.len() + 1];
            if pattern[i] == '*' {
                let crosses = pattern.get(i + 1) == Some(&'*');
                for j in 0..=subject.len() {
                    // Extend a match by any run: within a segment, or any at all for `**`.
                    next[j] =
                        matched[j] || (j > 0 && next[j - 1] && (crosses || !is_separator(subject[j - 1])));
                }
                i += if crosses { 2 } else { 1 };
            } else {
                for j in 1..=subject.len() {
                    next[j] = matched[j - 1] && subject[j - 1] == pattern[i];
                }
                i += 1;
            }
            matched = next;
        }
        matched[subject.len()]
    }
}

fn is_separator(c: char) -> bool {
    c == ':' || c == '/'
}

/// One external workload identity a client accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedIdentity {
    /// The `iss` of its tokens: a trusted issuer.
    pub issuer: String,
    pub subject: SubjectPattern,
    /// Claims its tokens must carry as exactly these strings; a dotted
    /// name reaches into objects (`kubernetes.io.namespace`), and must find
    /// one claim only (see `claim`).
    pub claims: BTreeMap<String, String>,
}

/// A federated identity as stored: JSON with these names.
#[derive(Serialize, Deserialize)]
struct StoredIdentity {
    issuer: String,
    subject: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    claims: BTreeMap<String, String>,
}

impl FederatedIdentity {
    pub fn parse(
        issuer: &str,
        subject: &str,
        claims: BTreeMap<String, String>,
    ) -> Result<Self, InvalidValue> {
        if issuer.is_empty() || issuer.len() > MAX_TEXT {
            return Err(InvalidValue(format!(
                "a federated identity's issuer must be 1 to {MAX_TEXT} characters"
            )));
        }
        if claims.len() > MAX_CLAIMS {
            return Err(InvalidValue(format!(
                "a federated identity may require at most {MAX_CLAIMS} claims"
            )));
        }
        if let Some((name, _)) = claims
            .iter()
            .find(|(name, value)| name.is_empty() || name.len() > MAX_TEXT || value.len() > MAX_TEXT)
        {
            return Err(InvalidValue(format!("claim {} is empty or too long", quoted(name))));
        }
        Ok(Self { issuer: issuer.to_owned(), subject: SubjectPattern::parse(subject)?, claims })
    }

    /// Whether a token from `issuer` about `subject` with `claims` is this workload.
    pub fn matches(&self, issuer: &str, subject: &str, claims: &Map<String, Value>) -> bool {
        self.issuer == issuer
            && self.subject.matches(subject)
            && self
                .claims
                .iter()
                .all(|(name, wanted)| claim(claims, name).is_some_and(|found| equals(found, wanted)))
    }

    /// A list of identities as stored: a JSON array, or empty text for none.
    pub fn parse_stored(text: &str) -> Result<Vec<Self>, InvalidValue> {
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let stored: Vec<StoredIdentity> =
            serde_json::from_str(text).map_err(|err| InvalidValue(format!("federated identities: {err}")))?;
        stored
            .into_iter()
            .map(|identity| Self::parse(&identity.issuer, &identity.subject, identity.claims))
            .collect()
    }

    /// `identities` as stored.
    pub fn to_stored(identities: &[Self]) -> String {
        if identities.is_empty() {
            return String::new();
        }
        let stored: Vec<_> = identities
            .iter()
            .map(|identity| StoredIdentity {
                issuer: identity.issuer.clone(),
                subject: identity.subject.as_str().to_owned(),
                claims: identity.claims.clone(),
            })
            .collect();
        serde_json::to_string(&stored).unwrap_or_default()
    }
}

/// The value of the claim `name` names, when exactly one reading of it finds
/// one. A dotted name is read every way its dots allow, since a claim's own
/// name may hold dots: `kubernetes.io.namespace` is the claim of that name,
/// or `namespace` in `kubernetes.io`, or `io.namespace` in `kubernetes`, and
/// so on. A token in which two readings find a value is ambiguous, and
/// satisfies no condition on that name: a claim added beside another cannot
/// stand in for it.
fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    let mut found = None;
    match readings(claims, name, &mut found) {
        1 => found,
        _ => None,
    }
}

/// Counts the readings of `name` in `claims` that find a value (stopping at
/// two), leaving the last in `found`. Each step goes down into a distinct
/// object of the token, so the work is bounded by the token's size.
fn readings<'a>(claims: &'a Map<String, Value>, name: &str, found: &mut Option<&'a Value>) -> usize {
    let mut count = 0;
    if let Some(value) = claims.get(name) {
        *found = Some(value);
        count += 1;
    }
    for (at, _) in name.match_indices('.') {
        if count > 1 {
            break;
        }
        if let Some(Value::Object(inner)) = claims.get(&name[..at]) {
            count += readings(inner, &name[at + 1..], found);
        }
    }
    count
}

/// A condition is a string, and holds for a claim that is that very string:
/// a number or a boolean never holds one (`3` is not `"3"`, `true` not `"true"`).
fn equals(found: &Value, wanted: &str) -> bool {
    found.as_str() == Some(wanted)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn pattern(raw: &str) -> SubjectPattern {
        SubjectPattern::parse(raw).unwrap()
    }

    #[test]
    fn one_star_stays_within_a_segment() {
        let p = pattern("system:serviceaccount:payments:*");
        assert!(p.matches("system:serviceaccount:payments:worker"));
        assert!(p.matches("system:serviceaccount:payments:"));
        assert!(!p.matches("system:serviceaccount:payments:a:b"));
        assert!(!p.matches("system:serviceaccount:orders:worker"));
        assert!(pattern("repo:acme/*:ref:refs/heads/main").matches("repo:acme/orders:ref:refs/heads/main"));
        assert!(!pattern("repo:acme/*:ref:refs/heads/main").matches("repo:acme/a/b:ref:refs/heads/main"));
    }

    #[test]
    fn two_stars_cross_segments() {
        let p = pattern("spiffe://prod.acme/ns/payments/**");
        assert!(p.matches("spiffe://prod.acme/ns/payments/sa/worker"));
        assert!(!p.matches("spiffe://prod.acme/ns/orders/sa/worker"));
        assert!(pattern("repo:acme/orders:**").matches("repo:acme/orders:ref:refs/heads/main"));
    }

    #[test]
    fn a_pattern_without_stars_is_exact() {
        let p = pattern("repo:acme/orders:ref:refs/heads/main");
        assert!(p.matches("repo:acme/orders:ref:refs/heads/main"));
        assert!(!p.matches("repo:acme/orders:ref:refs/heads/main2"));
        assert!(SubjectPattern::parse("").is_err());
        assert!(SubjectPattern::parse("a***").is_err());
    }

    #[test]
    fn dotted_claim_names_reach_into_objects() {
        let claims = json!({
            "kubernetes.io": {"namespace": "payments", "serviceaccount": {"name": "worker"}},
            "repository_owner": "acme", "run_attempt": 2, "ephemeral": true,
        });
        let claims = claims.as_object().unwrap();
        let identity = |name: &str, value: &str| {
            FederatedIdentity::parse("iss", "*", BTreeMap::from([(name.to_owned(), value.to_owned())]))
                .unwrap()
        };
        assert!(identity("kubernetes.io.namespace", "payments").matches("iss", "x", claims));
        assert!(identity("kubernetes.io.serviceaccount.name", "worker").matches("iss", "x", claims));
        assert!(!identity("kubernetes.io.namespace", "orders").matches("iss", "x", claims));
        assert!(identity("repository_owner", "acme").matches("iss", "x", claims));
        assert!(!identity("run_attempt", "2").matches("iss", "x", claims), "a number is not a string");
        assert!(!identity("ephemeral", "true").matches("iss", "x", claims), "a boolean is not a string");
        assert!(!identity("missing", "x").matches("iss", "x", claims));
        assert!(!identity("repository_owner", "acme").matches("other-iss", "x", claims));
    }

    #[test]
    fn a_claim_beside_another_cannot_stand_in_for_it() {
        let identity = FederatedIdentity::parse(
            "iss",
            "*",
            BTreeMap::from([("kubernetes.io.namespace".to_owned(), "payments".to_owned())]),
        )
        .unwrap();
        let nested = json!({"kubernetes.io": {"namespace": "orders"}, "kubernetes.io.namespace": "payments"});
        assert!(!identity.matches("iss", "x", nested.as_object().unwrap()), "two readings: ambiguous");
        let literal = json!({"kubernetes.io.namespace": "payments"});
        assert!(identity.matches("iss", "x", literal.as_object().unwrap()), "one reading: the literal name");
        let deeper =
            json!({"kubernetes": {"io": {"namespace": "payments"}}, "kubernetes.io": {"namespace": "x"}});
        assert!(!identity.matches("iss", "x", deeper.as_object().unwrap()), "two nested readings: ambiguous");
    }

    #[test]
    fn identities_round_trip_through_storage() {
        let identities = vec![
            FederatedIdentity::parse("https://a", "sub", BTreeMap::from([("k".into(), "v".into())])).unwrap(),
        ];
        let stored = FederatedIdentity::to_stored(&identities);
        assert_eq!(FederatedIdentity::parse_stored(&stored).unwrap(), identities);
        assert_eq!(FederatedIdentity::to_stored(&[]), "");
        assert!(FederatedIdentity::parse_stored("").unwrap().is_empty());
    }

    proptest! {
        #[test]
        fn any_pattern_and_subject_match_or_not_without_panicking(p in "[a-z:/*]{1,30}", s in "[a-z:/]{0,40}") {
            if let Ok(p) = SubjectPattern::parse(&p) {
                let _ = p.matches(&s);
            }
        }

        #[test]
        fn a_literal_pattern_matches_only_itself(s in "[a-z:/.]{1,40}", other in "[a-z:/.]{1,40}") {
            let p = pattern(&s);
            prop_assert!(p.matches(&s));
            prop_assert_eq!(p.matches(&other), s == other);
        }
    }
}
