//! Page sizes for the calls that list (clients, audit events): one rule for all.

use super::AuthError;

const DEFAULT_PAGE_SIZE: i64 = 50;
const MAX_PAGE_SIZE: i64 = 500;

/// The page size a caller asked for: 0 selects 50; at most 500.
pub fn page_size(requested: i64) -> Result<i64, AuthError> {
    match requested {
        0 => Ok(DEFAULT_PAGE_SIZE),
        1..=MAX_PAGE_SIZE => Ok(requested),
        _ => Err(AuthError::InvalidArgument(format!("page_size must be between 0 and {MAX_PAGE_SIZE}"))),
    }
}
