//! OAuth scopes (RFC 6749 §3.3): single scope tokens and the sets a client holds or asks for.

use std::{collections::BTreeSet, fmt};

use super::InvalidValue;

const MAX_LEN: usize = 128;

/// One scope token: `1*( %x21 / %x23-5B / %x5D-7E )`, i.e. printable ASCII
/// without space, `"` or `\`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(String);

impl Scope {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let valid_char = |b: u8| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b);
        if raw.is_empty() || raw.len() > MAX_LEN || !raw.bytes().all(valid_char) {
            return Err(InvalidValue(format!(
                "scope {} is not a valid scope token (RFC 6749 §3.3: 1 to {MAX_LEN} printable ASCII characters, no space, quote or backslash)",
                super::quoted(raw)
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of scopes without duplicates, kept sorted so its text form is stable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    /// Parses the space-delimited form used on the wire (`scope=a b c`).
    /// Runs of spaces are tolerated; duplicates collapse.
    pub fn parse_delimited(raw: &str) -> Result<Self, InvalidValue> {
        Self::parse_each(raw.split(' ').filter(|s| !s.is_empty()))
    }

    /// Parses a list of scope tokens, each of which must be one scope.
    pub fn parse_each<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Self, InvalidValue> {
        items.into_iter().map(Scope::parse).collect::<Result<_, _>>().map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s.as_str() == scope)
    }

    /// The first scope of `self` that `allowed` lacks, if any.
    pub fn first_outside<'a>(&'a self, allowed: &ScopeSet) -> Option<&'a Scope> {
        self.0.iter().find(|s| !allowed.0.contains(*s))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    /// The set without the scopes whose names start with `prefix`.
    pub fn without_prefix(&self, prefix: &str) -> ScopeSet {
        Self(self.0.iter().filter(|s| !s.0.starts_with(prefix)).cloned().collect())
    }

    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|s| s.0.clone()).collect()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(raw in ".{0,300}") {
            let _ = ScopeSet::parse_delimited(&raw);
        }

        #[test]
        fn a_scope_set_reads_back_as_itself(scopes in proptest::collection::vec("[!#-\\[\\]-~]{1,20}", 0..8)) {
            let set = ScopeSet::parse_each(scopes.iter().map(String::as_str)).unwrap();
            prop_assert_eq!(ScopeSet::parse_delimited(&set.to_string()).unwrap(), set);
        }
    }

    #[test]
    fn a_scope_with_a_quote_is_rejected() {
        assert!(Scope::parse("read\"").is_err());
    }

    #[test]
    fn a_scope_with_a_backslash_or_space_is_rejected() {
        assert!(Scope::parse("a\\b").is_err());
        assert!(Scope::parse("a b").is_err());
    }

    #[test]
    fn a_urn_scope_is_accepted() {
        assert!(Scope::parse("urn:zitadel:iam:org:project:id:zitadel:aud").is_ok());
    }

    #[test]
    fn duplicates_collapse_and_the_text_form_is_sorted() {
        let set = ScopeSet::parse_delimited("write  read write").unwrap();
        assert_eq!(set.to_string(), "read write");
    }

    #[test]
    fn an_empty_string_is_the_empty_set() {
        assert!(ScopeSet::parse_delimited("").unwrap().is_empty());
    }

    #[test]
    fn the_first_scope_outside_the_allowed_set_is_named() {
        let allowed = ScopeSet::parse_delimited("read").unwrap();
        let asked = ScopeSet::parse_delimited("read write").unwrap();
        assert_eq!(asked.first_outside(&allowed).unwrap().as_str(), "write");
        assert!(allowed.first_outside(&asked).is_none());
    }

    #[test]
    fn a_list_item_holding_two_scopes_is_rejected() {
        assert!(ScopeSet::parse_each(["read write"]).is_err());
    }
}
