//! The tests' own scaffolding: a real server per test on either store
//! (`helpers`, with the `on_both_stores!` macro), certificates made in the
//! test (`pki`), signers and a key server on loopback standing in for
//! external issuers (`signers`), scraping `/metrics` (`scrape`), and a
//! SoftHSM2 token of the test's own (`softhsm`), and DPoP proofs made with
//! real keys (`dpop`).

#[macro_use]
pub mod helpers;
pub mod dpop;
pub mod pki;
pub mod scrape;
pub mod signers;
pub mod softhsm;
