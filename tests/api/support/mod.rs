//! The tests' own scaffolding: a real server per test on either store
//! (`helpers`, with the `on_both_stores!` macro), certificates made in the
//! test (`pki`), signers and a key server on loopback standing in for
//! external issuers (`signers`), and scraping `/metrics` (`scrape`).

#[macro_use]
pub mod helpers;
pub mod pki;
pub mod scrape;
pub mod signers;
