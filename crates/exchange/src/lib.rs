//! Sharing requests and grants, the data-service gateway, quotas, usage, and the IT-project gate.
//!
//! - [`calendar`]: the working-day calendar the sharing law's answer deadlines run on;
//! - [`requests`]: requests through compliance check and provider answer, grants, "why";
//! - [`gateway`]: each grant's data-service endpoint — masking, quotas, rate, the call log and
//!   who used whose data;
//! - [`projects`]: the IT-project funding gate.

pub use shuju_store::exchange::{GrantRow, RequestRow};
pub mod bulk;
pub mod calendar;
pub mod gateway;
pub mod projects;
pub mod requests;

/// The `[exchange]` section of `shuju.toml`.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExchangeConfig {
    pub calendar: calendar::Calendar,
    pub deadlines: calendar::Deadlines,
}
