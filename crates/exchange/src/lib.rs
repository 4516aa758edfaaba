//! Sharing requests and grants, the data-service gateway, quotas, usage, and the IT-project gate.
//!
//! So far: the working-day calendar the sharing law's answer deadlines run on ([`calendar`]).
//! Requests, grants and the gateway follow (they need the lake for delivery).

pub mod calendar;
