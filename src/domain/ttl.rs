//! How long a client's access tokens live.

use super::InvalidValue;

/// A token lifetime between one minute and one day: short enough that a
/// leaked token expires soon, long enough that clients do not hammer the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenTtl(u32);

impl TokenTtl {
    pub const MIN_SECONDS: i64 = 60;
    pub const MAX_SECONDS: i64 = 86_400;
    pub const DEFAULT: TokenTtl = TokenTtl(3600);

    /// Parses seconds; 0 means "the default".
    pub fn parse(seconds: i64) -> Result<Self, InvalidValue> {
        if seconds == 0 {
            return Ok(Self::DEFAULT);
        }
        if !(Self::MIN_SECONDS..=Self::MAX_SECONDS).contains(&seconds) {
            return Err(InvalidValue(format!(
                "token_ttl_seconds must be between {} and {} (or 0 for the default of {})",
                Self::MIN_SECONDS,
                Self::MAX_SECONDS,
                Self::DEFAULT.0
            )));
        }
        Ok(Self(seconds as u32))
    }

    pub fn seconds(self) -> i64 {
        i64::from(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_selects_the_default_hour() {
        assert_eq!(TokenTtl::parse(0).unwrap().seconds(), 3600);
    }

    #[test]
    fn a_lifetime_under_a_minute_or_over_a_day_is_rejected() {
        assert!(TokenTtl::parse(59).is_err());
        assert!(TokenTtl::parse(86_401).is_err());
        assert!(TokenTtl::parse(-5).is_err());
    }
}
