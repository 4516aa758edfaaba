//! The platform's libraries (库): where a catalog entry's data lives in the lake. This is a tag
//! beside the catalog's classification, not the same thing.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Library {
    /// 基础库 · 人口
    BasePopulation,
    /// 基础库 · 法人
    BaseLegalEntity,
    /// 基础库 · 空间地理
    BaseSpatial,
    /// 基础库 · 宏观经济
    BaseEconomy,
    /// 主题库 (e-licenses, credit and supervision, social security, housing fund, real estate …)
    Theme,
    /// 专题库 (built for one purpose: school districts, one map …)
    Topic,
    /// 通用业务库 (each department's deliveries as received)
    Business,
}

impl Library {
    pub const ALL: [Library; 7] = [
        Library::BasePopulation,
        Library::BaseLegalEntity,
        Library::BaseSpatial,
        Library::BaseEconomy,
        Library::Theme,
        Library::Topic,
        Library::Business,
    ];

    /// A base library (基础库): built by the bureau from the departments' sources, not one itself.
    pub fn is_base(self) -> bool {
        matches!(
            self,
            Library::BasePopulation
                | Library::BaseLegalEntity
                | Library::BaseSpatial
                | Library::BaseEconomy
        )
    }

    pub fn key(self) -> &'static str {
        match self {
            Library::BasePopulation => "base_population",
            Library::BaseLegalEntity => "base_legal_entity",
            Library::BaseSpatial => "base_spatial",
            Library::BaseEconomy => "base_economy",
            Library::Theme => "theme",
            Library::Topic => "topic",
            Library::Business => "business",
        }
    }

    pub fn parse(s: &str) -> Option<Library> {
        Library::ALL
            .into_iter()
            .find(|l| l.key() == s || l.label_zh() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Library::BasePopulation => "基础库-人口",
            Library::BaseLegalEntity => "基础库-法人",
            Library::BaseSpatial => "基础库-空间地理",
            Library::BaseEconomy => "基础库-宏观经济",
            Library::Theme => "主题库",
            Library::Topic => "专题库",
            Library::Business => "通用业务库",
        }
    }
}
