//! The demo city's catalog: information systems and generated entries, registered through the
//! same Excel import departments use, most published, some waiting for review.

use shuju_admin::Caller;
use shuju_catalog::Catalog;
use shuju_store::catalog::InfoSystemFields;
use shuju_synth::catalog::{Provider, generate};
use shuju_types::{Error, Result};

/// Seed the catalog unless it already has entries. Returns the number of entries registered.
pub async fn seed_catalog(
    catalog: &Catalog,
    admin: &shuju_admin::Admin,
    n: usize,
    seed: u64,
) -> Result<usize> {
    let (entries, ..) = catalog.figures().await?;
    if entries > 0 {
        return Ok(0);
    }
    let sys = Caller::system();
    let providers: Vec<Provider> = admin
        .dept_tree()
        .await?
        .depts
        .into_iter()
        .filter(|d| d.parent_id.is_some())
        .map(|d| Provider {
            id: d.id,
            name: d.name,
        })
        .collect();
    if providers.is_empty() {
        return Err(Error::invalid(
            "departments",
            "the demo catalog needs departments",
        ));
    }
    let pending = 30.min(n);
    let (generated, systems) = generate(n + pending, &providers, seed, catalog.coding());
    for s in &systems {
        let f = InfoSystemFields {
            name: s.name.clone(),
            owner_dept_id: s.owner,
            hosting: s.hosting.into(),
            status: "active".into(),
            description: Some("演示系统".into()),
        };
        catalog.create_system(&sys, f).await?;
    }
    let (published, waiting) = generated.split_at(n);
    let bytes = shuju_catalog::excel::write_workbook(published)?;
    let report = catalog.import(&sys, &bytes, true, true).await?;
    if let Some(e) = report.errors.first() {
        tracing::warn!(row = e.row, message = %e.message, bad = report.errors.len(), "demo catalog rows refused");
    }
    // Some entries wait for the bureau's review, as in life.
    for (i, (e, _)) in waiting.iter().enumerate() {
        let mut e = e.clone();
        e.related.clear();
        let created = catalog.create(&sys, e).await?;
        if i % 2 == 0 {
            catalog.submit(&sys, created.row.id).await?;
        }
    }
    Ok(report.imported + waiting.len())
}
