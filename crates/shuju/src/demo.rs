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
    let accounts = seed_services(p).await.map_err(e("service matters"))?;
    if !accounts.is_empty() {
        let mut text = std::fs::read_to_string(&file).unwrap_or_default();
        for (u, pw, role) in accounts {
            text.push_str(&format!("{u}\t{pw}\t{role}\n"));
        }
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

/// A demo account with one role, in a department by name; `holder`: bound to that citizen ID or
/// credit code (its wallet and its own cases). `None` when the account exists.
async fn demo_account(
    p: &shuju_platform::Platform,
    user: &str,
    display_name: &str,
    dept: &str,
    role_key: &str,
    holder: Option<&str>,
) -> Result<Option<String>> {
    let sys = Caller::system();
    if shuju_admin::users::by_username(p.admin.store(), user)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let dept = shuju_admin::departments::all(p.admin.store())
        .await?
        .into_iter()
        .find(|d| d.name == dept)
        .ok_or_else(|| Error::not_found(dept.to_owned()))?;
    let role = shuju_admin::roles::by_key(p.admin.store(), role_key)
        .await?
        .ok_or_else(|| Error::not_found(role_key.to_owned()))?;
    let pw = shuju_admin::password::random();
    let u = p
        .admin
        .create_user(
            &sys,
            shuju_admin::users::UserInput {
                username: user.into(),
                display_name: display_name.into(),
                dept_id: dept.id,
                role_ids: vec![role.id],
                password: Some(pw.clone()),
                must_change_password: Some(false),
                ..Default::default()
            },
        )
        .await?;
    if let Some(h) = holder {
        p.licenses.bind_holder(&sys, u.user.id, h).await?;
    }
    Ok(Some(pw))
}

/// The service flow of the demo city (once): its dozen matters and their processes, accounts
/// for the departments that co-approve and a citizen, and a few hundred cases from the
/// household registry's residents in every state (open at each stage, paused for a correction
/// or a special step, approved, refused). Returns the new accounts (user, password, role).
async fn seed_services(p: &shuju_platform::Platform) -> Result<Vec<(String, String, String)>> {
    use shuju_service::case::Act;
    let (processes, matters) = p.services.seed_demo().await?;
    if matters == 0 {
        return Ok(vec![]);
    }
    eprintln!(
        "  Service matters: {matters} matters and {processes} processes (政务服务事项) saved."
    );
    // Residents with valid IDs, from the generated city's ground truth.
    let truth =
        std::fs::read_to_string(p.config.data_dir.join("city/truth.csv")).unwrap_or_default();
    let mut residents: Vec<String> = truth
        .lines()
        .filter_map(|l| l.strip_prefix("gongan_hukou,"))
        .filter_map(|l| l.split(',').next())
        .filter(|id| shuju_types::CitizenId::parse(id).is_ok())
        .take(400)
        .map(str::to_owned)
        .collect();
    residents.dedup();
    let mut accounts = Vec::new();
    let approver = shuju_admin::seed::APPROVER_ROLE;
    for (user, name, dept, label) in [
        (
            "scjg_approver",
            "郑市监",
            "聊城市市场监督管理局",
            "审批人员 (市场监管局): 并联审查食品经营许可",
        ),
        (
            "shj_approver",
            "冯环保",
            "聊城市生态环境局",
            "审批人员 (生态环境局): 并联审查食品经营许可",
        ),
        (
            "mzj_approver",
            "褚民政",
            "聊城市民政局",
            "审批人员 (民政局): 低保、残疾人证、婚姻核查",
        ),
        (
            "service_admin",
            "卫事项",
            "聊城市大数据局",
            "政务服务事项管理员: 事项、流程",
        ),
    ] {
        let role = if user == "service_admin" {
            shuju_admin::seed::SERVICE_ADMIN_ROLE
        } else {
            approver
        };
        if let Some(pw) = demo_account(p, user, name, dept, role, None).await? {
            accounts.push((user.to_owned(), pw, label.to_owned()));
        }
    }
    if let Some(first) = residents.first()
        && let Some(pw) = demo_account(
            p,
            "shimin",
            "市民",
            "聊城市大数据局",
            shuju_admin::seed::HOLDER_ROLE,
            Some(first),
        )
        .await?
    {
        accounts.push((
            "shimin".into(),
            pw,
            "市民 (申请人: 查看本人办件、谁用了我的数据)".into(),
        ));
    }
    if residents.is_empty() {
        return Ok(accounts);
    }
    let depts = shuju_admin::departments::all(p.admin.store()).await?;
    let centre = depts
        .iter()
        .find(|d| d.name == "阳谷县行政审批服务局")
        .map(|d| d.id);
    let window = Caller {
        username: "demo".into(),
        dept_id: centre,
        ..Caller::system()
    };
    let all = p.services.matters().await?;
    let n = 240;
    eprintln!("  Opening {n} demo cases at the 阳谷县 window and routing them …");
    for i in 0..n {
        let m = &all[i % all.len()];
        let answers = m
            .questions
            .iter()
            .map(|q| {
                (
                    q.id.clone(),
                    q.answers[i / all.len() % q.answers.len()].clone(),
                )
            })
            .collect();
        let values = m
            .form
            .iter()
            .filter(|f| f.element.is_none() && f.fact.is_none())
            .map(|f| {
                let v = match f.name.as_str() {
                    "category" => "肢体残疾",
                    "grade" => "三级",
                    "trade_name" => "阳谷县狮子楼便民超市",
                    "premises" => "阳谷县博济桥街道狮子楼路 18 号",
                    "bank_account" => "6228480012345678901",
                    "plate" => "鲁P·12345",
                    "zone" => "东昌府区主城区",
                    _ => "见附件",
                };
                (f.name.clone(), v.to_owned())
            })
            .collect();
        let o = shuju_service::OpenCase {
            matter: m.code.clone(),
            applicant: Some(residents[i % residents.len()].clone()),
            answers,
            // Reading a file is the slow part of opening a case: a quarter consent, and every
            // applicant of a matter that issues a license (its claims come from the file).
            consent: i % 4 == 0 || m.issues_license.is_some(),
            values,
            // The demo city sends no notices: no relay is configured.
            contact: Default::default(),
        };
        if i > 0 && i % 40 == 0 {
            eprintln!("    {i} cases …");
        }
        let mut view = p.services.open(&window, &o).await?;
        // How far the case goes: 0 steps (just received) up to the end; some are refused or
        // paused for a correction or a special step on the way.
        let steps = i % 7;
        for step in 0..steps {
            let Some((stage, task)) = view.case.tasks.iter().next() else {
                break;
            };
            let officer = Caller {
                username: "demo".into(),
                dept_id: Some(task.dept_id),
                roles: vec![task.role.clone()],
                ..Caller::system()
            };
            let (act, note) = match (i % 13, step) {
                (3, 0) => (Act::Correct, "请补正经营场所照片"),
                (8, 1) => (Act::SpecialStep, "现场核查"),
                (5, _) => (Act::Refuse, "不符合《社会救助暂行办法》第十一条规定的条件"),
                _ => (Act::Approve, "材料齐全，符合条件"),
            };
            let stage = stage.clone();
            view = p.services.act(&officer, view.id, &stage, act, note).await?;
            if view.case.paused.is_some() || view.case.decided.is_some() {
                break;
            }
        }
    }
    seed_past_cases(p, &all).await?;
    Ok(accounts)
}

/// Past cases of every instant matter, as a predecessor system would hand them over, so that a
/// replay before a rule change has a history to run over.
async fn seed_past_cases(
    p: &shuju_platform::Platform,
    all: &[shuju_service::matter::Matter],
) -> Result<()> {
    use rand::{Rng, SeedableRng};
    const PER_MATTER: usize = 1000;
    let mut rng = rand::rngs::StdRng::seed_from_u64(25);
    for m in all {
        let Some(i) = &m.instant else { continue };
        let past: Vec<serde_json::Value> = (0..PER_MATTER)
            .map(|_| {
                let facts = i.facts.iter().map(|f| {
                    let v = match f.as_str() {
                        "income" => serde_json::json!(rng.gen_range(0..4000)),
                        "age" => serde_json::json!(rng.gen_range(14..85)),
                        "properties" | "vehicles" | "enterprises" | "individual_businesses" => {
                            serde_json::json!(rng.gen_range(0..4))
                        }
                        _ => serde_json::json!(rng.gen_bool(0.9)),
                    };
                    (f.clone(), v)
                });
                serde_json::Value::Object(facts.collect())
            })
            .collect();
        p.services
            .import_screenings(&Caller::system(), &m.code, &past)
            .await?;
    }
    eprintln!("  Past cases: {PER_MATTER} per instant matter, for replay before a rule change.");
    Ok(())
}
