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

/// The demo city's deliveries in the lake: generate the city (once), register each delivery's
/// catalog entry, set up its table, load every file, then build the base libraries. Skipped when
/// the lake already has tables. Progress on stderr.
pub async fn seed_lake(
    catalog: &Catalog,
    lake: &shuju_lake::Lake,
    admin: &shuju_admin::Admin,
    data_dir: &std::path::Path,
    persons: usize,
) -> Result<()> {
    use shuju_synth::sources::{SOURCES, base_sql, entry};
    let sys = Caller::system();
    if !lake.tables(&sys).await?.is_empty() {
        return Ok(());
    }
    let city = data_dir.join("city");
    if !city.join("truth.csv").exists() {
        eprintln!(
            "  Generating the demo city ({persons} persons) in {} …",
            city.display()
        );
        shuju_synth::city::generate(persons, 20_261_127, &city, |_| {})?;
    }
    let depts = admin.dept_tree().await?.depts;
    let mut entries = Vec::new();
    for (i, s) in SOURCES.iter().enumerate() {
        let d = depts
            .iter()
            .find(|d| d.name == s.dept)
            .ok_or_else(|| Error::not_found(format!("department {}", s.dept)))?;
        let p = Provider {
            id: d.id,
            name: d.name.clone(),
        };
        entries.push(entry(s, &p, i as u64 + 1, catalog.coding())?);
    }
    let published: Vec<_> = entries.iter().cloned().map(|e| (e, None)).collect();
    let bytes = shuju_catalog::excel::write_workbook(&published)?;
    let report = catalog.import(&sys, &bytes, true, true).await?;
    if let Some(e) = report.errors.first() {
        return Err(Error::invalid(
            "demo",
            format!(
                "the city's entries were refused: row {}: {}",
                e.row, e.message
            ),
        ));
    }
    for (s, e) in SOURCES.iter().zip(&entries) {
        let key: Vec<String> = s.key.iter().map(|k| (*k).to_owned()).collect();
        let spec = shuju_catalog::lake::set_up_table(
            catalog,
            lake,
            &sys,
            &e.code,
            s.table,
            &key,
            Default::default(),
        )
        .await?;
        let Some(file) = s.file else {
            continue;
        };
        let r = crate::progress::ingest(lake, &sys, &e.code, &city.join(file), &spec.name).await?;
        let line = format!(
            "{:<28} {} rows loaded, {} rejected, {} duplicates",
            spec.name, r.inserted, r.rejected, r.duplicates
        );
        eprintln!("  {line}");
    }
    for (s, e) in SOURCES.iter().zip(&entries) {
        if let Some(sql) = base_sql(s.table) {
            let spec = lake
                .spec_for_resource(&e.code)
                .await?
                .ok_or_else(|| Error::not_found(s.table))?;
            let r = lake.build(&sys, &spec, sql).await?;
            eprintln!("  {:<28} {} rows built", s.table, r.inserted);
        }
    }
    Ok(())
}
