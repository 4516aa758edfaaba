//! The demo city: departments and accounts for each role, a catalog of information systems and
//! generated entries registered through the same Excel import departments use (most published,
//! some waiting for review), the synthetic city's deliveries loaded into the lake and the base
//! libraries built, persons and enterprises resolved, business licences issued and a wallet.

use shuju_admin::Caller;
use shuju_catalog::Catalog;
use shuju_catalog::rows::InfoSystemFields;
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
        let spec = shuju_catalog::lake::set_up(
            catalog,
            lake,
            &sys,
            &e.code,
            s.table,
            shuju_synth::sources::setup(s),
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

/// Grow an opened platform into the demo city (each step only once), printing what it did and
/// the demo accounts.
pub async fn grow(
    p: &shuju_platform::Platform,
    entries: usize,
    persons: usize,
) -> anyhow::Result<()> {
    let e = |what: &'static str| {
        move |err: Error| anyhow::anyhow!("demo {what} failed: {}", err.message)
    };
    let sys = Caller::system();
    let data_dir = &p.config.data_dir;
    let accounts = p.admin.seed_demo().await.map_err(e("seeding"))?;
    let file = data_dir.join("demo-accounts.txt");
    if !accounts.is_empty() {
        let mut text = String::new();
        for (u, role, pw) in &accounts {
            text.push_str(&format!("{u}\t{pw}\t{role}\n"));
        }
        shuju_platform::write_secret(&file, &text).map_err(e("accounts"))?;
    }
    let added = seed_catalog(&p.catalog, &p.admin, entries, 20_261_127)
        .await
        .map_err(e("catalog"))?;
    seed_lake(&p.catalog, &p.lake, &p.admin, data_dir, persons)
        .await
        .map_err(e("lake"))?;
    if p.persons
        .runs(&sys)
        .await
        .map_err(e("resolution"))?
        .is_empty()
    {
        eprintln!("  Resolving persons across the sources (一人一档) …");
        let r = p.persons.resolve(&sys).await.map_err(e("resolution"))?;
        crate::print_resolution(&r, "persons", "citizen IDs");
    }
    if p.enterprises
        .runs(&sys)
        .await
        .map_err(e("resolution"))?
        .is_empty()
    {
        eprintln!("  Resolving enterprises across the sources (一企一档) …");
        let r = p.enterprises.resolve(&sys).await.map_err(e("resolution"))?;
        crate::print_resolution(&r, "enterprises", "credit codes");
    }
    // The market registry's business licences become e-licenses (once); the other types come
    // from the lake on the registry page or `POST /api/v1/licenses/bulk`.
    eprintln!("  Issuing the market registry's business licences as e-licenses (once) …");
    let r = p
        .licenses
        .issue_bulk(&sys, &p.lake, "business_licence", None)
        .await
        .map_err(e("e-licenses"))?;
    if r.issued > 0 {
        eprintln!(
            "  E-licenses issued from the market registry: {} business licences ({} rejected).",
            r.issued,
            r.rejected.len()
        );
    }
    if let Some((user, pw, holder)) = demo_wallet(&p.admin, &p.licenses)
        .await
        .map_err(e("wallet"))?
    {
        let mut text = std::fs::read_to_string(&file).unwrap_or_default();
        text.push_str(&format!("{user}\t{pw}\t持证人 (企业经办人: {holder})\n"));
        shuju_platform::write_secret(&file, &text).map_err(e("accounts"))?;
    }
    let (entries, published, systems, cloud) = p.catalog.figures().await.unwrap_or_default();
    eprintln!(
        "  Demo city: 聊城市 (371500), {} departments, {entries} catalog entries ({published} published{}), {systems} information systems ({cloud} on the government cloud).",
        p.admin.count_departments().await.unwrap_or(0),
        if added > 0 { ", just generated" } else { "" }
    );
    eprintln!(
        "  Demo accounts (username, password, role) — also in {}:",
        file.display()
    );
    if let Ok(text) = std::fs::read_to_string(&file) {
        for line in text.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            if let [u, pw, role] = cols[..] {
                eprintln!("      {u:<14} {pw:<18} {role}");
            }
        }
    }
    if let Ok(pw) = std::fs::read_to_string(data_dir.join("initial-admin-password")) {
        eprintln!(
            "      {:<14} {:<18} 超级管理员 (one-time password; change at first login)",
            "admin",
            pw.trim()
        );
    }
    eprintln!();
    Ok(())
}

/// The demo's wallet account: an enterprise agent bound to the first business licence's holder.
/// `None` when it exists already (or nothing was issued).
async fn demo_wallet(
    admin: &shuju_admin::Admin,
    licenses: &shuju_license::registry::Licenses,
) -> shuju_types::Result<Option<(String, String, String)>> {
    let sys = shuju_admin::Caller::system();
    const USER: &str = "qiye_agent";
    if shuju_admin::users::by_username(admin.store(), USER)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let Some((holder_id, holder_name)) = licenses.first_holder().await? else {
        return Ok(None);
    };
    let bureau = shuju_admin::departments::all(admin.store())
        .await?
        .into_iter()
        .find(|d| d.name == "聊城市大数据局")
        .ok_or_else(|| shuju_types::Error::not_found("聊城市大数据局"))?;
    let role = shuju_admin::roles::by_key(admin.store(), shuju_admin::seed::HOLDER_ROLE)
        .await?
        .ok_or_else(|| shuju_types::Error::not_found("the holder role"))?;
    let pw = shuju_admin::password::random();
    let user = admin
        .create_user(
            &sys,
            shuju_admin::users::UserInput {
                username: USER.into(),
                display_name: format!("{holder_name}经办人"),
                dept_id: bureau.id,
                role_ids: vec![role.id],
                password: Some(pw.clone()),
                must_change_password: Some(false),
                ..Default::default()
            },
        )
        .await?;
    licenses.bind_holder(&sys, user.user.id, &holder_id).await?;
    Ok(Some((USER.to_owned(), pw, holder_name)))
}
