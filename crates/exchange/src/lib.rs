//! Sharing requests and grants, the data-service gateway, quotas, usage and the IT-project gate.
//!
//! The crate exists so the dependency direction of DESIGN.md §3 is fixed from the start; its
//! work begins with the issue that names it (see docs/ARCHITECTURE.md).
