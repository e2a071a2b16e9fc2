//! What tokend tells the people who run it: Prometheus metrics, one log line
//! per request (sampled under floods), and the log's set-up.

pub mod access_log;
pub mod metrics;
pub mod telemetry;
