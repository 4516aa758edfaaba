//! Service matters, one-window applications, auto-fill, rules, routing and instant approval.
//!
//! The crate exists so the dependency direction of DESIGN.md §3 is fixed from the start; its
//! work begins with the issue that names it (see docs/ARCHITECTURE.md).
