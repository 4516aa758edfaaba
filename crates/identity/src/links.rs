//! Reading a resolution's result: every record's entity (links) and the entities with their
//! records (clusters), paged and filtered by source, run and method, and a run's links exported
//! for audit. A reader sees the links of the sources its data scope covers; record keys that
//! are citizen IDs are masked unless it may read personal data unmasked.

use crate::persons::{Persons, entity_kind};
use shuju_admin::{Caller, perm};
use shuju_store::audit::{self, Outcome};
use shuju_store::identity::{self as db, ClusterRow, LinkFilter, LinkRow};
use shuju_store::{Page, Paged};
use shuju_types::{Error, Result};

/// A record key as a reader without the right to personal data sees it: a citizen ID (valid,
/// flagged or legacy, with a party suffix) keeps its division and last four.
pub fn masked_key(key: &str) -> String {
    let (bang, rest) = match key.strip_prefix('!') {
        Some(r) => ("!", r),
        None => ("", key),
    };
    let (id, party) = match rest.find('#') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let looks_like_id = (15..=18).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'X' || b == b'x');
    if looks_like_id {
        format!("{bang}{}{party}", shuju_types::mask::mask_middle(id, 6, 4))
    } else {
        key.to_owned()
    }
}

impl Persons {
    /// The filter as `c` may apply it: limited to the sources its data scope covers.
    async fn scoped(&self, c: &Caller, mut filter: LinkFilter) -> Result<LinkFilter> {
        let readers = self.lake.readers(c).await?;
        if !readers.sees_every_table() {
            let visible: Vec<String> = self
                .lake
                .live()
                .await?
                .into_iter()
                .filter(|(spec, _)| readers.sees(spec))
                .map(|(spec, _)| spec.name.clone())
                .collect();
            filter.within = Some(visible);
        }
        Ok(filter)
    }

    fn shown(c: &Caller, mut rows: Vec<LinkRow>) -> Vec<LinkRow> {
        if !c.can(perm::LAKE_UNMASKED) {
            for r in &mut rows {
                r.record_key = masked_key(&r.record_key);
            }
        }
        rows
    }

    /// One page of the links of persons (or enterprises, `kind`).
    pub async fn links(
        &self,
        c: &Caller,
        kind: Option<&str>,
        filter: LinkFilter,
        page: Page,
    ) -> Result<Paged<LinkRow>> {
        self.require_view(c, "identity.links").await?;
        let kind = entity_kind(kind)?;
        let filter = self.scoped(c, filter).await?;
        let mut p = db::links_page(&self.store, kind, &filter, page).await?;
        p.items = Self::shown(c, p.items);
        Ok(p)
    }

    /// One page of the entities with at least `min_records` records, largest first.
    pub async fn clusters(
        &self,
        c: &Caller,
        kind: Option<&str>,
        filter: LinkFilter,
        min_records: i64,
        page: Page,
    ) -> Result<Paged<ClusterRow>> {
        self.require_view(c, "identity.clusters").await?;
        let kind = entity_kind(kind)?;
        let filter = self.scoped(c, filter).await?;
        db::clusters_page(&self.store, kind, &filter, min_records.max(1), page).await
    }

    /// Every link of run `run` (0: those made as deliveries landed before any run) as CSV
    /// (source, record key, entity, method, run), for audit. Audited itself.
    pub async fn export_links(&self, c: &Caller, kind: Option<&str>, run: i64) -> Result<String> {
        self.require_view(c, "identity.links.export").await?;
        let kind = entity_kind(kind)?;
        if run != 0
            && !db::runs(&self.store, kind, i64::MAX)
                .await?
                .iter()
                .any(|r| r.id == run)
        {
            return Err(Error::not_found(format!("resolution run {run}")));
        }
        let filter = self
            .scoped(
                c,
                LinkFilter {
                    run: Some(run),
                    ..Default::default()
                },
            )
            .await?;
        let mut w = csv::Writer::from_writer(Vec::new());
        let csv_err = |e: csv::Error| Error::internal(e);
        w.write_record(["source", "record_key", "entity_id", "method", "run_id"])
            .map_err(csv_err)?;
        let mut page = Page::new(Some(1), Some(Page::MAX_SIZE));
        let mut n = 0usize;
        loop {
            let p = db::links_page(&self.store, kind, &filter, page).await?;
            let rows = Self::shown(c, p.items);
            if rows.is_empty() {
                break;
            }
            for l in &rows {
                w.write_record([
                    l.source.as_str(),
                    l.record_key.as_str(),
                    l.entity_id.as_str(),
                    l.method.as_str(),
                    &l.run_id.to_string(),
                ])
                .map_err(csv_err)?;
            }
            n += rows.len();
            page.page += 1;
        }
        let body = w.into_inner().map_err(|e| Error::internal(e.to_string()))?;
        let _ = audit::record(
            &self.store,
            &c.entry(
                "identity.links.export",
                "identity_run",
                Some(run.to_string()),
                Outcome::Ok,
                Some(format!("{kind}: {n} links")),
            ),
        )
        .await;
        String::from_utf8(body).map_err(Error::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_are_citizen_ids_are_masked() {
        assert_eq!(masked_key("11010519491231002X"), "110105********002X");
        assert_eq!(masked_key("!110105194912310021"), "!110105********0021");
        assert_eq!(
            masked_key("11010519491231002X#男方"),
            "110105********002X#男方"
        );
        assert_eq!(masked_key("SB000000012"), "SB000000012");
    }
}
