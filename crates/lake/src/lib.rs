//! The lake: the platform's four libraries (基础库, 主题库, 专题库, 通用业务库) as Delta Lake tables,
//! with ingestion, validation, quarantine, lineage and SQL through DataFusion with masking.
//!
//! DataFusion and deltalake are dependencies of this crate only, so that the rest of the workspace
//! rebuilds quickly. Work on this crate starts with issue 4; today it holds the library tags that
//! the catalog and the lake share.

use serde::{Deserialize, Serialize};

/// The platform library a table (and its catalog entry) belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Library {
    /// 基础库: population, legal entities, spatial, economy.
    Base,
    /// 主题库: e-licenses, credit and supervision, social security, housing fund, real estate …
    Theme,
    /// 专题库: built for one purpose (school districts, one map …).
    Topic,
    /// 通用业务库: each department's raw deliveries as received.
    Business,
}

impl Library {
    pub fn label_zh(self) -> &'static str {
        match self {
            Library::Base => "基础库",
            Library::Theme => "主题库",
            Library::Topic => "专题库",
            Library::Business => "通用业务库",
        }
    }
}
