//! The reference city's administrative divisions (GB/T 2260), with their history, and the three
//! functional zones, which are local statistical units rather than GB/T 2260 codes.

use crate::perm;
use crate::{Admin, Caller};
pub use shuju_store::divisions::Division;
use shuju_store::divisions::{self as store};
use shuju_types::Result;

/// (code, name, level, parent, kind, valid_from, valid_to)
pub type Row = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    Option<&'static str>,
);

pub const REFERENCE_CITY: &str = "371500";

/// The seed: Shandong, the reference city, its eight county-level divisions, one former code
/// (茌平县 became 茌平区 in 2019), and the three functional zones.
pub const SEED: &[Row] = &[
    (
        "370000",
        "山东省",
        "province",
        None,
        "gbt2260",
        "1980",
        None,
    ),
    (
        "371500",
        "聊城市",
        "prefecture",
        Some("370000"),
        "gbt2260",
        "1998",
        None,
    ),
    (
        "371502",
        "东昌府区",
        "county",
        Some("371500"),
        "gbt2260",
        "1998",
        None,
    ),
    (
        "371523",
        "茌平县",
        "county",
        Some("371500"),
        "gbt2260",
        "1998",
        Some("2019"),
    ),
    (
        "371503",
        "茌平区",
        "county",
        Some("371500"),
        "gbt2260",
        "2019",
        None,
    ),
    (
        "371521",
        "阳谷县",
        "county",
        Some("371500"),
        "gbt2260",
        "1998",
        None,
    ),
    (
        "371522",
        "莘县",
        "county",
        Some("371500"),
        "gbt2260",
        "1998",
        None,
    ),
    (
        "371524",
        "东阿县",
        "county",
        Some("371500"),
        "gbt2260",
        "1998",
        None,
    ),
    (
        "371525",
        "冠县",
        "county",
        Some("371500"),
        "gbt2260",
        "1998",
        None,
    ),
    (
        "371526",
        "高唐县",
        "county",
        Some("371500"),
        "gbt2260",
        "1998",
        None,
    ),
    (
        "371581",
        "临清市",
        "county",
        Some("371500"),
        "gbt2260",
        "1998",
        None,
    ),
    (
        "371571",
        "聊城经济技术开发区",
        "zone",
        Some("371500"),
        "local",
        "2012",
        None,
    ),
    (
        "371572",
        "聊城高新技术产业开发区",
        "zone",
        Some("371500"),
        "local",
        "2012",
        None,
    ),
    (
        "371573",
        "聊城江北水城旅游度假区",
        "zone",
        Some("371500"),
        "local",
        "2012",
        None,
    ),
];

pub fn seed_rows() -> Vec<Division> {
    SEED.iter()
        .map(|(code, name, level, parent, kind, from, to)| Division {
            code: (*code).into(),
            name: (*name).into(),
            level: (*level).into(),
            parent_code: parent.map(Into::into),
            kind: (*kind).into(),
            valid_from: (*from).into(),
            valid_to: to.map(Into::into),
        })
        .collect()
}

impl Admin {
    /// The divisions in force: public reference data, offered on forms to any official.
    pub async fn divisions_in_force(&self) -> Result<Vec<Division>> {
        store::list(&self.store, false).await
    }

    pub async fn list_divisions(&self, c: &Caller, history: bool) -> Result<Vec<Division>> {
        self.require(c, perm::DIVISION_LIST, "division.list", "division")
            .await?;
        store::list(&self.store, history).await
    }
}
