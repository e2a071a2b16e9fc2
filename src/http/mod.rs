//! What every HTTP-speaking wing shares: a body read within bounds, JSON
//! answers that caches must not keep, and a failure written as the OAuth
//! JSON error (RFC 6749 §5.2) or in the TokenIDP dialect, and routes that
//! answer the methods they do not serve with 405.

mod body;
mod methods;
mod reply;

pub use body::read_body;
pub use methods::{only_get, only_post};
pub use reply::{Rejection, json_response, method_not_allowed, no_store_json, not_found};
