//! Per-client limits an administrator sets: how fast a client may ask for
//! tokens, and how long its new secrets live.

use super::InvalidValue;

/// A token bucket's settings: `per_second` tokens a second, at most `burst`
/// at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

impl RateLimit {
    const MAX_PER_SECOND: u32 = 1_000_000;
    const MAX_BURST: u32 = 1_000_000;

    /// Parses the registration fields: a rate of 0 means unlimited (`None`);
    /// a burst of 0 means one second's worth.
    pub fn parse(per_second: u32, burst: u32) -> Result<Option<Self>, InvalidValue> {
        if per_second == 0 {
            return match burst {
                0 => Ok(None),
                _ => Err(InvalidValue("rate_limit_burst needs a rate_limit_per_second".into())),
            };
        }
        if per_second > Self::MAX_PER_SECOND || burst > Self::MAX_BURST {
            return Err(InvalidValue(format!(
                "rate_limit_per_second and rate_limit_burst must be at most {}",
                Self::MAX_PER_SECOND
            )));
        }
        let burst = if burst == 0 { per_second } else { burst };
        Ok(Some(Self { per_second, burst }))
    }
}

/// How long a client's new secrets live before they expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretMaxAge(i64);

impl SecretMaxAge {
    /// An hour: anything shorter cannot be rotated by hand in time.
    pub const MIN_SECONDS: i64 = 3600;
    /// Ten years.
    pub const MAX_SECONDS: i64 = 10 * 366 * 86_400;

    /// Parses seconds; 0 means none set (`None`).
    pub fn parse(seconds: i64) -> Result<Option<Self>, InvalidValue> {
        match seconds {
            0 => Ok(None),
            Self::MIN_SECONDS..=Self::MAX_SECONDS => Ok(Some(Self(seconds))),
            _ => Err(InvalidValue(format!(
                "secret_max_age_seconds must be 0 (none) or between {} and {}",
                Self::MIN_SECONDS,
                Self::MAX_SECONDS
            ))),
        }
    }

    pub fn seconds(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_of_zero_is_unlimited_and_a_burst_defaults_to_one_second() {
        assert_eq!(RateLimit::parse(0, 0).unwrap(), None);
        assert_eq!(RateLimit::parse(5, 0).unwrap(), Some(RateLimit { per_second: 5, burst: 5 }));
        assert_eq!(RateLimit::parse(5, 20).unwrap(), Some(RateLimit { per_second: 5, burst: 20 }));
        assert!(RateLimit::parse(0, 3).is_err(), "a burst without a rate");
    }

    #[test]
    fn a_secret_max_age_is_none_or_within_bounds() {
        assert_eq!(SecretMaxAge::parse(0).unwrap(), None);
        assert_eq!(SecretMaxAge::parse(90 * 86_400).unwrap().map(SecretMaxAge::seconds), Some(90 * 86_400));
        assert!(SecretMaxAge::parse(60).is_err());
        assert!(SecretMaxAge::parse(-1).is_err());
    }
}
