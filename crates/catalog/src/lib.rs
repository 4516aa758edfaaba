//! The government information resource catalog: entries, review workflow, search, CKAN and DCAT faces.
//!
//! The crate exists so the dependency direction of DESIGN.md §3 is fixed from the start; its
//! work begins with the issue that names it (see docs/ARCHITECTURE.md).
