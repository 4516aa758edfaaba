//! One audited action: the ritual every change follows, written once so invariants 3 and 4 hold
//! by construction. The permission is checked (a refusal is audited as denied); the input is
//! checked (a refusal is audited as rejected, naming the field, never the value); the change runs
//! in one transaction with its audit record and commits; an object that is not there is audited
//! as a refusal and answered as not found.

use crate::{Admin, Caller};
#[cfg(test)]
use shuju_store::Store;
use shuju_store::WriteTx;
use shuju_store::audit::{self, Outcome};
use shuju_types::{Error, Result};

/// What an action is called, the permission it needs and the object it acts on.
#[derive(Clone, Copy, Debug)]
pub struct Action<'a> {
    /// The audit record's action, e.g. `dict.type.update`.
    pub name: &'a str,
    pub perm: &'a str,
    pub object_type: &'a str,
    /// The object acted on; `None` for one the change creates.
    pub object_id: Option<i64>,
    /// What the object is called in a "not found" answer.
    pub noun: &'a str,
}

impl Admin {
    /// Run an audited action: permission → `check` → one transaction: `change` + audit record →
    /// commit. `change` returns the result and the object's id, or `None` when the object is not
    /// there (nothing is written). Returns what `change` returned.
    pub async fn act<V, T>(
        &self,
        c: &Caller,
        a: Action<'_>,
        check: impl AsyncFnOnce() -> Result<V>,
        change: impl AsyncFnOnce(&mut WriteTx, V) -> Result<Option<(T, i64)>>,
    ) -> Result<T> {
        let id = a.object_id.map(|i| i.to_string());
        if !c.can(a.perm) {
            let err = Error::forbidden(format!("missing permission {}", a.perm));
            return Err(self.refused(c, a.name, a.object_type, id, err).await);
        }
        let v = match check().await {
            Ok(v) => v,
            Err(e) => return Err(self.refused(c, a.name, a.object_type, id, e).await),
        };
        let mut tx = self.store.write().await?;
        match change(&mut tx, v).await? {
            None => {
                drop(tx);
                let err = Error::not_found(a.noun.to_owned());
                Err(self.refused(c, a.name, a.object_type, id, err).await)
            }
            Some((t, object)) => {
                let entry = c.entry(
                    a.name,
                    a.object_type,
                    Some(object.to_string()),
                    Outcome::Ok,
                    None,
                );
                audit::append(&mut tx, &entry).await?;
                tx.commit().await?;
                Ok(t)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shuju_store::audit::AuditFilter;
    use shuju_store::{Migrate, Page};

    async fn admin() -> (Admin, shuju_store::testing::TestDb) {
        let db = shuju_store::testing::sqlite();
        let store = Store::open(&db.url, Migrate::Apply).await.unwrap();
        (Admin::new(store, Default::default()), db)
    }

    async fn trail(a: &Admin) -> Vec<(String, String)> {
        let page = shuju_store::audit::list(
            a.store(),
            &AuditFilter::default(),
            Page::new(None, Some(100)),
        )
        .await
        .unwrap();
        page.items
            .into_iter()
            .map(|r| (r.action, r.outcome))
            .collect()
    }

    const ACT: Action<'static> = Action {
        name: "test.write",
        perm: "system:dict:add",
        object_type: "dict_type",
        object_id: Some(7),
        noun: "thing",
    };

    #[tokio::test]
    async fn an_action_is_refused_checked_written_or_rolled_back_and_always_audited() {
        let (a, _db) = admin().await;
        let mut nobody = Caller::system();
        nobody.permissions.clear();
        let sys = Caller::system();
        // Denied: nothing runs.
        let r = a
            .act(
                &nobody,
                ACT,
                async || -> Result<()> { panic!("no check without the permission") },
                async |_: &mut WriteTx, ()| -> Result<Option<((), i64)>> { panic!("no change") },
            )
            .await;
        assert_eq!(
            r.unwrap_err().code,
            shuju_types::ErrorCode::PermissionDenied
        );
        // Rejected by the check, naming the field.
        let r = a
            .act(
                &sys,
                ACT,
                async || -> Result<()> { Err(Error::invalid("name", "is empty")) },
                async |_: &mut WriteTx, ()| -> Result<Option<((), i64)>> { panic!("no change") },
            )
            .await;
        assert_eq!(r.unwrap_err().field.as_deref(), Some("name"));
        // Not there: not found, audited.
        let r = a
            .act(
                &sys,
                ACT,
                async || Ok(()),
                async |_: &mut WriteTx, ()| Ok(None::<((), i64)>),
            )
            .await;
        assert_eq!(r.unwrap_err().code, shuju_types::ErrorCode::NotFound);
        // A change that fails after writing leaves nothing, not even its audit record.
        let r = a
            .act(
                &sys,
                ACT,
                async || Ok(()),
                async |tx: &mut WriteTx, ()| -> Result<Option<((), i64)>> {
                    shuju_store::audit::append(
                        tx,
                        &Caller::system().entry("inside", "x", None, Outcome::Ok, None),
                    )
                    .await?;
                    Err(Error::internal(std::io::Error::other("disk full")))
                },
            )
            .await;
        assert!(r.is_err());
        // Done: the change and its record together.
        let v = a
            .act(
                &sys,
                ACT,
                async || Ok(5),
                async |_: &mut WriteTx, n: i32| Ok(Some((n * 2, 7))),
            )
            .await;
        assert_eq!(v.unwrap(), 10);
        let t = trail(&a).await;
        let outcomes: Vec<&str> = t.iter().rev().map(|(_, o)| o.as_str()).collect();
        assert!(t.iter().all(|(act, _)| act == "test.write"), "{t:?}");
        assert_eq!(outcomes, ["denied", "rejected", "rejected", "ok"], "{t:?}");
    }
}
