//! A catalog entry's metadata, as the 2017 编制指南 (within GB/T 21063) defines it.

use serde::{Deserialize, Serialize};
use shuju_types::{Library, ResourceAttribute};

/// Sharing class (共享类型). Ordered from narrowest to widest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SharingKind {
    /// 不予共享 (3): needs a legal basis.
    NotShared,
    /// 有条件共享 (2): needs a condition.
    Conditional,
    /// 无条件共享 (1)
    Unconditional,
}

impl SharingKind {
    pub const ALL: [SharingKind; 3] = [
        SharingKind::Unconditional,
        SharingKind::Conditional,
        SharingKind::NotShared,
    ];
    pub fn key(self) -> &'static str {
        match self {
            SharingKind::Unconditional => "unconditional",
            SharingKind::Conditional => "conditional",
            SharingKind::NotShared => "not_shared",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            SharingKind::Unconditional => "无条件共享",
            SharingKind::Conditional => "有条件共享",
            SharingKind::NotShared => "不予共享",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.key() == s || k.label_zh() == s || k.digit() == s)
    }
    /// The number the guide gives the class.
    pub fn digit(self) -> &'static str {
        match self {
            SharingKind::Unconditional => "1",
            SharingKind::Conditional => "2",
            SharingKind::NotShared => "3",
        }
    }
}

/// How shared data is delivered (共享方式).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SharingMethod {
    /// 库表
    Table,
    /// 接口
    Api,
    /// 文件
    File,
}

impl SharingMethod {
    pub const ALL: [SharingMethod; 3] = [
        SharingMethod::Table,
        SharingMethod::Api,
        SharingMethod::File,
    ];
    pub fn key(self) -> &'static str {
        match self {
            SharingMethod::Table => "table",
            SharingMethod::Api => "api",
            SharingMethod::File => "file",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            SharingMethod::Table => "库表",
            SharingMethod::Api => "接口",
            SharingMethod::File => "文件",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.key() == s || k.label_zh() == s)
    }
}

/// Opening attribute (开放属性), ordered from narrowest to widest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OpeningKind {
    /// 不予开放
    NotOpen,
    /// 有条件开放
    Conditional,
    /// 无条件开放
    Open,
}

impl OpeningKind {
    pub const ALL: [OpeningKind; 3] = [
        OpeningKind::Open,
        OpeningKind::Conditional,
        OpeningKind::NotOpen,
    ];
    pub fn key(self) -> &'static str {
        match self {
            OpeningKind::Open => "open",
            OpeningKind::Conditional => "conditional",
            OpeningKind::NotOpen => "not_open",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            OpeningKind::Open => "无条件开放",
            OpeningKind::Conditional => "有条件开放",
            OpeningKind::NotOpen => "不予开放",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.key() == s || k.label_zh() == s)
    }
}

/// Update cycle (更新周期).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UpdateCycle {
    Realtime,
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    Semiannual,
    Yearly,
    Irregular,
}

impl UpdateCycle {
    pub const ALL: [UpdateCycle; 8] = [
        UpdateCycle::Realtime,
        UpdateCycle::Daily,
        UpdateCycle::Weekly,
        UpdateCycle::Monthly,
        UpdateCycle::Quarterly,
        UpdateCycle::Semiannual,
        UpdateCycle::Yearly,
        UpdateCycle::Irregular,
    ];
    pub fn key(self) -> &'static str {
        match self {
            UpdateCycle::Realtime => "realtime",
            UpdateCycle::Daily => "daily",
            UpdateCycle::Weekly => "weekly",
            UpdateCycle::Monthly => "monthly",
            UpdateCycle::Quarterly => "quarterly",
            UpdateCycle::Semiannual => "semiannual",
            UpdateCycle::Yearly => "yearly",
            UpdateCycle::Irregular => "irregular",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            UpdateCycle::Realtime => "实时",
            UpdateCycle::Daily => "每日",
            UpdateCycle::Weekly => "每周",
            UpdateCycle::Monthly => "每月",
            UpdateCycle::Quarterly => "每季度",
            UpdateCycle::Semiannual => "每半年",
            UpdateCycle::Yearly => "每年",
            UpdateCycle::Irregular => "不定期",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.key() == s || k.label_zh() == s)
    }
    /// The frequency in the EU vocabulary DCAT-AP uses.
    pub fn eu_frequency(self) -> &'static str {
        match self {
            UpdateCycle::Realtime => "UPDATE_CONT",
            UpdateCycle::Daily => "DAILY",
            UpdateCycle::Weekly => "WEEKLY",
            UpdateCycle::Monthly => "MONTHLY",
            UpdateCycle::Quarterly => "QUARTERLY",
            UpdateCycle::Semiannual => "ANNUAL_2",
            UpdateCycle::Yearly => "ANNUAL",
            UpdateCycle::Irregular => "IRREG",
        }
    }
}

/// Resource format category (信息资源格式分类).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FormatCategory {
    /// 电子文件
    Document,
    /// 电子表格
    Spreadsheet,
    /// 数据库
    Database,
    /// 图形图像
    Image,
    /// 流媒体
    Stream,
    /// 自描述格式
    SelfDescribing,
    /// 接口
    Api,
    /// 其他
    Other,
}

impl FormatCategory {
    pub const ALL: [FormatCategory; 8] = [
        FormatCategory::Database,
        FormatCategory::Spreadsheet,
        FormatCategory::Document,
        FormatCategory::Image,
        FormatCategory::Stream,
        FormatCategory::SelfDescribing,
        FormatCategory::Api,
        FormatCategory::Other,
    ];
    pub fn key(self) -> &'static str {
        match self {
            FormatCategory::Document => "document",
            FormatCategory::Spreadsheet => "spreadsheet",
            FormatCategory::Database => "database",
            FormatCategory::Image => "image",
            FormatCategory::Stream => "stream",
            FormatCategory::SelfDescribing => "self_describing",
            FormatCategory::Api => "api",
            FormatCategory::Other => "other",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            FormatCategory::Document => "电子文件",
            FormatCategory::Spreadsheet => "电子表格",
            FormatCategory::Database => "数据库",
            FormatCategory::Image => "图形图像",
            FormatCategory::Stream => "流媒体",
            FormatCategory::SelfDescribing => "自描述格式",
            FormatCategory::Api => "接口",
            FormatCategory::Other => "其他",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.key() == s || k.label_zh() == s)
    }
}

/// Data types of information items (the guide's letters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    /// 字符型 C
    Char,
    /// 数值型 N
    Number,
    /// 货币型 Y
    Currency,
    /// 日期型 D
    Date,
    /// 日期时间型 T
    DateTime,
    /// 逻辑型 L
    Logical,
    /// 备注型 M
    Memo,
    /// 通用型 G (binary)
    General,
}

impl DataType {
    pub const ALL: [DataType; 8] = [
        DataType::Char,
        DataType::Number,
        DataType::Currency,
        DataType::Date,
        DataType::DateTime,
        DataType::Logical,
        DataType::Memo,
        DataType::General,
    ];
    pub fn key(self) -> &'static str {
        match self {
            DataType::Char => "char",
            DataType::Number => "number",
            DataType::Currency => "currency",
            DataType::Date => "date",
            DataType::DateTime => "datetime",
            DataType::Logical => "logical",
            DataType::Memo => "memo",
            DataType::General => "general",
        }
    }
    pub fn letter(self) -> &'static str {
        match self {
            DataType::Char => "C",
            DataType::Number => "N",
            DataType::Currency => "Y",
            DataType::Date => "D",
            DataType::DateTime => "T",
            DataType::Logical => "L",
            DataType::Memo => "M",
            DataType::General => "G",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            DataType::Char => "字符型",
            DataType::Number => "数值型",
            DataType::Currency => "货币型",
            DataType::Date => "日期型",
            DataType::DateTime => "日期时间型",
            DataType::Logical => "逻辑型",
            DataType::Memo => "备注型",
            DataType::General => "通用型",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.key() == s || k.label_zh() == s || k.letter().eq_ignore_ascii_case(s))
    }
}

/// How sensitive an information item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// 公开
    Public,
    /// 内部
    Internal,
    /// 敏感 (personal data: masked unless a grant unmasks it)
    Sensitive,
    /// 涉密: refused — classified data does not belong on this platform.
    Secret,
}

impl Sensitivity {
    pub const ALL: [Sensitivity; 4] = [
        Sensitivity::Public,
        Sensitivity::Internal,
        Sensitivity::Sensitive,
        Sensitivity::Secret,
    ];
    pub fn key(self) -> &'static str {
        match self {
            Sensitivity::Public => "public",
            Sensitivity::Internal => "internal",
            Sensitivity::Sensitive => "sensitive",
            Sensitivity::Secret => "secret",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Sensitivity::Public => "公开",
            Sensitivity::Internal => "内部",
            Sensitivity::Sensitive => "敏感",
            Sensitivity::Secret => "涉密",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.key() == s || k.label_zh() == s)
    }
}

/// One information item (信息项).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub name: String,
    /// The column name in the source table.
    pub column: String,
    pub data_type: DataType,
    pub length: Option<u32>,
    /// The code standard the values follow, e.g. `GB 11643`.
    #[serde(default)]
    pub code_standard: Option<String>,
    pub sensitivity: Sensitivity,
    pub sharing: SharingKind,
    pub opening: OpeningKind,
    /// The data element (数据元) the column holds, by identifier (`citizen_id`, `sex`): what
    /// applications select it by, and the value domain its codes map to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    /// For an entry naming several persons or enterprises, which party this item is about
    /// (男方, 女方, 法定代表人, 股东).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// The sharing attribute (共享属性).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Sharing {
    pub kind: SharingKind,
    /// Required when conditional.
    #[serde(default)]
    pub condition: Option<String>,
    /// Required when not shared.
    #[serde(default)]
    pub legal_basis: Option<String>,
    #[serde(default)]
    pub methods: Vec<SharingMethod>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Format {
    pub category: FormatCategory,
    /// e.g. `MySQL`, `xlsx`, `JSON`.
    #[serde(default)]
    pub detail: String,
}

/// The metadata of a catalog entry (one version of it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Names of the classification levels 类/项/目/细目 (one to four).
    pub classification: Vec<String>,
    pub name: String,
    /// 前段码/后段码
    pub code: String,
    pub provider_dept_id: i64,
    /// 信息资源提供方 and its code: filled from the department.
    #[serde(default)]
    pub provider_name: String,
    #[serde(default)]
    pub provider_code: String,
    pub summary: String,
    pub format: Format,
    pub items: Vec<Item>,
    pub sharing: Sharing,
    pub opening: OpeningKind,
    pub update_cycle: UpdateCycle,
    /// YYYY-MM-DD; set when first published if empty.
    #[serde(default)]
    pub publish_date: Option<String>,
    /// Codes of related resources.
    #[serde(default)]
    pub related: Vec<String>,
    /// The information system the data comes from.
    #[serde(default)]
    pub system_id: Option<i64>,
    /// base_population | base_legal_entity | base_spatial | base_economy | theme | topic | business
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub library: Library,
    /// base | theme | department (must match the code's first digit 1/2/3)
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub attribute: ResourceAttribute,
    /// 涉密: such resources are refused.
    #[serde(default)]
    pub secret: bool,
}

/// Lifecycle states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Submitted,
    Published,
    Offline,
}

impl Status {
    pub fn key(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Published => "published",
            Status::Offline => "offline",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Status::Draft,
            Status::Submitted,
            Status::Published,
            Status::Offline,
        ]
        .into_iter()
        .find(|k| k.key() == s)
    }
}
