//! The reference city's administrative divisions (GB/T 2260), with their history, and the three
//! functional zones, which are local statistical units rather than GB/T 2260 codes.

use crate::perm;
use crate::{Admin, Caller};
pub use shuju_store::divisions::Division;
use shuju_store::divisions::{self as store};
use shuju_types::Result;

pub use shuju_types::division_seed::{REFERENCE_CITY, Row, SEED};

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
