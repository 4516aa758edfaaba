//! The lake: the platform's four libraries (基础库, 主题库, 专题库, 通用业务库) as Delta Lake tables,
//! with ingestion, validation, quarantine, lineage and SQL through DataFusion with masking.
//!
//! DataFusion and deltalake will be dependencies of this crate only, so that the rest of the
//! workspace rebuilds quickly. Work on this crate begins with the lake issue; the library tag it
//! will place tables by is `shuju_types::Library`, shared with the catalog.

pub use shuju_types::Library;
