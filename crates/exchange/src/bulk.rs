//! Bulk delivery: a consumer subscribes through its grant to the grant's table and receives, as
//! files in its department's space, the rows changed since the version last delivered — read
//! from the Delta log by time travel — with the grant's items only, masked as the grant says.
//! Each delivery is recorded (with the persons and enterprises it touched, for "who used my
//! data") and audited together with the subscription's new version; a delivery cut short leaves
//! the subscription where it was, and the next one writes the same file again.

use crate::gateway::{Gateway, call_of, subject, today};
use serde::Serialize;
use sha2::{Digest, Sha256};
use shuju_admin::{Caller, perm};
use shuju_lake::spec::{Check, Kind};
use shuju_store::audit::{self, Outcome};
use shuju_store::gateway::{self as gw, DeliveryRow, SubscriptionRow};
use shuju_types::{Error, Result};
use std::path::PathBuf;

/// A subscription with its deliveries, newest first.
#[derive(Clone, Debug, Serialize)]
pub struct Subscription {
    #[serde(flatten)]
    pub row: SubscriptionRow,
    pub deliveries: Vec<DeliveryRow>,
}

impl Gateway {
    /// The grant's consumer subscribes to its table. Its first delivery is the whole table.
    pub async fn subscribe(&self, c: &Caller, grant_id: i64) -> Result<Subscription> {
        let r = self.resolved(grant_id).await?;
        self.may_use(c, &r.grant)?;
        if let Some(s) = gw::subscriptions(&self.store, Some(grant_id)).await?.pop() {
            return self.subscription(c, s.id).await;
        }
        let mut tx = self.store.write().await?;
        let id = gw::insert_subscription(&mut tx, grant_id, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(
                "exchange.subscribe",
                "share_grant",
                Some(grant_id.to_string()),
                Outcome::Ok,
                Some(format!("subscription {id}")),
            ),
        )
        .await?;
        tx.commit().await?;
        self.subscription(c, id).await
    }

    /// A subscription and its deliveries, to its consumer.
    pub async fn subscription(&self, c: &Caller, id: i64) -> Result<Subscription> {
        let row = gw::get_subscription(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found(format!("subscription {id}")))?;
        let r = self.resolved(row.grant_id).await?;
        self.may_use(c, &r.grant)?;
        Ok(Subscription {
            deliveries: gw::deliveries(&self.store, id).await?,
            row,
        })
    }

    /// The subscriptions of the caller's department.
    pub async fn subscriptions(&self, c: &Caller) -> Result<Vec<Subscription>> {
        c.require(
            &self.store,
            perm::GATEWAY_CALL,
            "exchange.subscriptions",
            "share_grant",
            None,
        )
        .await?;
        let mut out = Vec::new();
        for s in gw::subscriptions(&self.store, None).await? {
            if let Ok(r) = self.resolved(s.grant_id).await
                && c.dept_id == Some(r.grant.consumer_dept_id)
            {
                out.push(Subscription {
                    deliveries: gw::deliveries(&self.store, s.id).await?,
                    row: s,
                });
            }
        }
        Ok(out)
    }

    fn may_use(&self, c: &Caller, g: &shuju_store::exchange::GrantRow) -> Result<()> {
        if !c.can(perm::GATEWAY_CALL) {
            return Err(Error::forbidden(format!(
                "missing permission {}",
                perm::GATEWAY_CALL
            )));
        }
        if c.dept_id != Some(g.consumer_dept_id) {
            return Err(Error::forbidden(format!(
                "grant {} belongs to another department; see GET /api/v1/exchange/why?entry_id={}",
                g.id, g.entry_id
            )));
        }
        Ok(())
    }

    /// Deliver a subscription's changes now, to its consumer. `None` when there is nothing new.
    pub async fn deliver(&self, c: &Caller, id: i64) -> Result<Option<DeliveryRow>> {
        let s = self.subscription(c, id).await?;
        self.deliver_one(&s.row, &c.username).await
    }

    /// Deliver every active subscription's changes (the server does this every little while).
    /// Returns the deliveries made; a subscription that cannot be delivered (its grant revoked
    /// or expired) is skipped and said in the log.
    pub async fn deliver_due(&self) -> Result<Vec<DeliveryRow>> {
        let mut out = Vec::new();
        for s in gw::subscriptions(&self.store, None).await? {
            match self.deliver_one(&s, "system").await {
                Ok(Some(d)) => out.push(d),
                Ok(None) => {}
                Err(e) => {
                    tracing::info!(subscription = s.id, reason = %e.message, "not delivered")
                }
            }
        }
        Ok(out)
    }

    /// The file of a delivery, to the subscription's consumer: its name and bytes.
    pub async fn delivery_file(
        &self,
        c: &Caller,
        delivery_id: i64,
        subscription_id: i64,
    ) -> Result<(String, Vec<u8>)> {
        let s = self.subscription(c, subscription_id).await?;
        let d = s
            .deliveries
            .iter()
            .find(|d| d.id == delivery_id)
            .ok_or_else(|| Error::not_found(format!("delivery {delivery_id}")))?;
        let r = self.resolved(s.row.grant_id).await?;
        let path = self
            .folder(r.grant.consumer_dept_id, s.row.id)?
            .join(&d.file_name);
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                Error::not_found(format!("the file of delivery {delivery_id}"))
            }
            _ => Error::internal(e),
        })?;
        Ok((d.file_name.clone(), bytes))
    }

    fn folder(&self, dept_id: i64, subscription: i64) -> Result<PathBuf> {
        let p = self
            .lake
            .space(&format!("dept-{dept_id}"))?
            .join(format!("subscription-{subscription}"));
        std::fs::create_dir_all(&p).map_err(Error::internal)?;
        Ok(p)
    }

    async fn deliver_one(&self, s: &SubscriptionRow, actor: &str) -> Result<Option<DeliveryRow>> {
        let _one = self.delivering.lock().await;
        // Read again under the lock: another delivery may have moved it on.
        let s = &gw::get_subscription(&self.store, s.id)
            .await?
            .ok_or_else(|| Error::not_found(format!("subscription {}", s.id)))?;
        let r = self.resolved(s.grant_id).await?;
        let g = &r.grant;
        let day = today();
        if let Some(at) = &g.revoked_at {
            return Err(Error::forbidden(format!(
                "grant {} was revoked on {at}",
                g.id
            )));
        }
        if g.valid_until.as_str() < day.as_str() {
            return Err(Error::forbidden(format!(
                "grant {} expired on {}",
                g.id, g.valid_until
            )));
        }
        let (_, spec, cols) = r
            .data
            .as_ref()
            .map_err(|e| Error::new(e.code, e.message.clone()))?;
        let ids: Vec<_> = spec
            .columns
            .iter()
            .filter(|c| matches!(c.check, Some(Check::CitizenId) | Some(Check::CreditCode)))
            .collect();
        let mut names: Vec<String> = cols.iter().map(|(c, _)| c.name.clone()).collect();
        names.extend(ids.iter().map(|c| c.name.clone()));
        names.sort();
        names.dedup();
        let ch = self.lake.changes(spec, s.last_version, &names).await?;
        let Some(to) = ch.to.filter(|t| Some(*t) != s.last_version) else {
            return Ok(None);
        };
        // The file: an operation column (U: added or changed, D: removed), then the granted
        // items, masked as granted.
        let mask = |masked: bool, kind: Kind, v: Option<&serde_json::Value>| -> String {
            let text = match v {
                None | Some(serde_json::Value::Null) => return String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            };
            match (masked, kind) {
                (false, _) => text,
                (true, Kind::Text) => shuju_lake::query::mask_str(&text),
                (true, _) => String::new(),
            }
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        let header: Vec<&str> = std::iter::once("_op")
            .chain(cols.iter().map(|(c, _)| c.name.as_str()))
            .collect();
        w.write_record(&header).map_err(Error::internal)?;
        let mut subjects = Vec::new();
        for row in &ch.rows {
            let rec: Vec<String> = std::iter::once("U".to_owned())
                .chain(cols.iter().map(|(c, m)| mask(*m, c.kind, row.get(&c.name))))
                .collect();
            w.write_record(&rec).map_err(Error::internal)?;
            for c in &ids {
                if let Some(x) = row.get(&c.name).and_then(|v| subject(c.check.as_ref(), v)) {
                    subjects.push(x);
                }
            }
        }
        let key = spec.key.first().cloned().unwrap_or_default();
        for k in &ch.removed {
            let v = serde_json::Value::String(k.clone());
            let rec: Vec<String> = std::iter::once("D".to_owned())
                .chain(cols.iter().map(|(c, m)| {
                    if c.name == key {
                        mask(*m, c.kind, Some(&v))
                    } else {
                        String::new()
                    }
                }))
                .collect();
            w.write_record(&rec).map_err(Error::internal)?;
        }
        let bytes = w.into_inner().map_err(|e| Error::internal(e.to_string()))?;
        subjects.sort();
        subjects.dedup();
        let file_name = format!(
            "{}_v{}_v{to}.csv",
            spec.name,
            s.last_version
                .map_or("0".to_owned(), |v| (v + 1).to_string())
        );
        let dir = self.folder(g.consumer_dept_id, s.id)?;
        let tmp = dir.join(format!(".{file_name}.part"));
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(Error::internal)?;
            f.write_all(&bytes).map_err(Error::internal)?;
            f.sync_all().map_err(Error::internal)?;
        }
        std::fs::rename(&tmp, dir.join(&file_name)).map_err(Error::internal)?;
        let d = DeliveryRow {
            id: 0,
            subscription_id: s.id,
            from_version: s.last_version,
            to_version: to,
            file_name,
            rows_changed: ch.rows.len() as i64,
            rows_removed: ch.removed.len() as i64,
            sha256: hex::encode(Sha256::digest(&bytes)),
            delivered_at: String::new(),
        };
        let call = call_of(g, actor, (200, d.rows_changed, 0), day.clone(), subjects);
        let mut tx = self.store.write().await?;
        let id = gw::record_delivery(&mut tx, &d).await?;
        let calls = gw::record_calls(&mut tx, std::slice::from_ref(&call)).await?;
        let mut who = Caller::system();
        who.username = actor.to_owned();
        audit::append(
            &mut tx,
            &who.entry(
                "exchange.deliver",
                "share_grant",
                Some(g.id.to_string()),
                Outcome::Ok,
                Some(format!(
                    "subscription {}: {} (versions {:?}..{to}), {} changed, {} removed, call {:?}",
                    s.id,
                    d.file_name,
                    s.last_version,
                    d.rows_changed,
                    d.rows_removed,
                    calls.first()
                )),
            ),
        )
        .await?;
        tx.commit().await?;
        self.counted_elsewhere(g.id, &day, d.rows_changed);
        Ok(gw::deliveries(&self.store, s.id)
            .await?
            .into_iter()
            .find(|x| x.id == id))
    }
}
