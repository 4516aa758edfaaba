//! Who reads a table directly. A table's data, its rejected rows, its jobs (file names and
//! hashes), its lineage and its quality belong to the department that provides it (the catalog
//! entry's provider, carried in [`TableSpec::provider`]): a caller reads them when its data scope
//! covers that department, or covers every department (the bureau). Another department's data
//! leaves only through a grant's gateway endpoint. One rule for SQL, quarantine, jobs, lineage,
//! quality and the table list, so no read path can forget it.

use crate::{Lake, TableSpec};
use shuju_admin::scope::{DeptTree, Visibility, visibility};
use shuju_admin::{Caller, DataScope};
use shuju_types::Result;

/// The departments whose tables a caller reads.
#[derive(Clone, Debug)]
pub struct Readers {
    vis: Visibility,
}

impl Readers {
    /// Everything (the platform, or a caller whose scope is every department).
    pub fn all() -> Readers {
        Readers {
            vis: Visibility {
                all: true,
                ..Default::default()
            },
        }
    }

    pub fn sees_every_table(&self) -> bool {
        self.vis.all
    }

    pub fn sees(&self, spec: &TableSpec) -> bool {
        self.vis.all || spec.provider.is_some_and(|d| self.vis.sees_dept(d))
    }
}

impl Lake {
    /// The tables `c` reads directly, computed once per call.
    pub async fn readers(&self, c: &Caller) -> Result<Readers> {
        if c.scopes.contains(&DataScope::All) {
            return Ok(Readers::all());
        }
        let tree = DeptTree::new(shuju_admin::departments::all(&self.store).await?);
        Ok(Readers {
            vis: visibility(&c.scopes, c.dept_id, c.user_id, &tree),
        })
    }

    /// The spec of a table `c` reads; a table outside its scope is not found, as if absent.
    pub(crate) async fn readable_spec(&self, c: &Caller, table: &str) -> Result<TableSpec> {
        let spec = self.spec_of(table).await?;
        if self.readers(c).await?.sees(&spec) {
            Ok(spec)
        } else {
            Err(shuju_types::Error::not_found(format!("lake table {table}")))
        }
    }
}
