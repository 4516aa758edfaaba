//! Sharing requests and grants, the data-service gateway, quotas, usage, and the IT-project gate.
//!
//! So far: the working-day calendar the sharing law's answer deadlines run on ([`calendar`]).
//! Requests, grants and the gateway follow (they need the lake for delivery).

pub mod calendar;
pub mod projects;
pub mod requests;

/// The `[exchange]` section of `shuju.toml`.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExchangeConfig {
    pub calendar: calendar::Calendar,
    pub deadlines: calendar::Deadlines,
}
