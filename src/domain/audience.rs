//! Token audiences (`aud`, RFC 8707 resources): who a token is meant for.

use std::fmt;

use super::InvalidValue;

const MAX_LEN: usize = 256;

/// One audience: 1 to 256 printable ASCII characters without spaces,
/// typically a URI or a service name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Audience(String);

impl Audience {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.is_empty() || raw.len() > MAX_LEN || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidValue(format!(
                "audience {} must be 1 to {MAX_LEN} printable ASCII characters without spaces",
                super::quoted(raw)
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Audiences without duplicates, in the order first given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudienceList(Vec<Audience>);

impl AudienceList {
    pub fn parse_each<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Self, InvalidValue> {
        let mut list = Vec::new();
        for item in items {
            let audience = Audience::parse(item)?;
            if !list.contains(&audience) {
                list.push(audience);
            }
        }
        Ok(Self(list))
    }

    pub fn single(audience: Audience) -> Self {
        Self(vec![audience])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first audience of `self` that `allowed` lacks, if any.
    pub fn first_outside<'a>(&'a self, allowed: &AudienceList) -> Option<&'a Audience> {
        self.0.iter().find(|a| !allowed.0.contains(a))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Audience> {
        self.0.iter()
    }

    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|a| a.0.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(raw in proptest::collection::vec(".{0,80}", 0..4)) {
            let _ = AudienceList::parse_each(raw.iter().map(String::as_str));
        }
    }

    #[test]
    fn an_audience_with_a_space_is_rejected() {
        assert!(Audience::parse("orders api").is_err());
    }

    #[test]
    fn a_uri_audience_is_accepted() {
        assert!(Audience::parse("https://orders.internal/api").is_ok());
    }

    #[test]
    fn repeated_audiences_collapse_keeping_first_order() {
        let list = AudienceList::parse_each(["b", "a", "b"]).unwrap();
        assert_eq!(list.to_strings(), ["b", "a"]);
    }
}
