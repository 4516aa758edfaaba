//! One person, one file: search (by citizen ID, or name and birth date), the person's file
//! (opened with a stated purpose), and the clerical review queue.

use super::{CheckedForm, Flash, PageCaller, after, base, page};
use crate::AppState;
use crate::extract::{Path, Query};
use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use shuju_admin::perm;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_page))
        .routes(routes!(reviews_page))
        .routes(routes!(review_decide))
        .routes(routes!(file_page))
        .routes(routes!(check_page))
        .routes(routes!(rules_page))
        .routes(routes!(rule_page, rule_save))
        .routes(routes!(rule_test))
        .routes(routes!(enterprises_page))
        .routes(routes!(enterprise_page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchQuery {
    citizen_id: Option<String>,
    name: Option<String>,
    birth: Option<String>,
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Search persons; each candidate links to its file.
#[utoipa::path(get, path = "/persons", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn search_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<SearchQuery>,
) -> Response {
    let c = &pc.caller;
    let asked = blank(&q.citizen_id).is_some() || blank(&q.name).is_some();
    let (found, err) = if asked {
        match s
            .persons
            .search(c, blank(&q.citizen_id), blank(&q.name), blank(&q.birth))
            .await
        {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(crate::i18n::say(pc.lang, &e))),
        }
    } else {
        (None, None)
    };
    let runs = match super::unless_denied(s.persons.runs(c).await) {
        Ok(r) => r,
        Err(e) => return super::page_error(e),
    };
    page(
        "persons.html",
        Ok(context! {
            q => context! { citizen_id => q.citizen_id, name => q.name, birth => q.birth },
            found => found,
            last_run => runs.first(),
            can_resolve => c.can(perm::IDENTITY_RESOLVE),
            can_review => c.can(perm::IDENTITY_REVIEW),
            ..base(&pc, "persons", &Flash { ok: None, err })
        }),
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FileQuery {
    purpose: Option<String>,
}

/// A person's file, masked by the viewer's permission; asks for the purpose first.
#[utoipa::path(get, path = "/persons/{id}", tag = "pages", params(("id" = String, Path)), responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn file_page(
    State(s): State<AppState>,
    mut pc: PageCaller,
    Path(id): Path<String>,
    Query(q): Query<FileQuery>,
) -> Response {
    let purpose = purpose_of(&mut pc, &q);
    let (file, err) = shown(
        pc.lang,
        match purpose {
            Some(_) => Some(s.persons.file(&pc.caller, &id).await),
            None => None,
        },
    );
    let rule_sets = match super::unless_denied(s.persons.rule_sets(&pc.caller).await) {
        Ok(r) => r,
        Err(e) => return super::page_error(e),
    };
    page(
        "person.html",
        Ok(context! {
            person_id => id,
            purpose => purpose,
            rule_sets => rule_sets,
            file => file.map(|f| context! {
                masked => f.masked,
                facts => facts(&f.facts, pc.lang),
                household => f.household,
                licences => f.licences,
            }),
            ..base(&pc, "persons", &Flash { ok: None, err })
        }),
    )
}

/// The purpose a file page is opened with (from the query), set on the caller.
fn purpose_of(pc: &mut PageCaller, q: &FileQuery) -> Option<String> {
    let p = blank(&q.purpose).map(str::to_owned);
    pc.caller.purpose = p.clone();
    p
}

/// A file as a page shows it: the file, or the message of why it could not be opened.
fn shown<T>(
    lang: crate::i18n::Lang,
    r: Option<shuju_types::Result<T>>,
) -> (Option<T>, Option<String>) {
    match r {
        Some(Ok(f)) => (Some(f), None),
        Some(Err(e)) => (None, Some(crate::i18n::say(lang, &e))),
        None => (None, None),
    }
}

/// Facts as the file pages show them: each with its source, versions, dates and fields.
fn facts(facts: &[shuju_identity::files::Fact], lang: crate::i18n::Lang) -> Vec<minijinja::Value> {
    facts
        .iter()
        .map(|x| {
            context! {
                kind => x.kind, table => x.table, version => x.version, key => x.record_key, method => x.method,
                date => x.date, delivered => x.delivered, delivered_in => x.delivered_in, entity => x.entity,
                flagged => x.flagged.iter().map(|(c, why)| (c.clone(), crate::i18n::text(lang, why), x.as_written.get(c).cloned())).collect::<Vec<_>>(),
                fields => x.row.iter().map(|(k, v)| (k.clone(), match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => "—".into(),
                    v => v.to_string(),
                })).collect::<Vec<_>>(),
            }
        })
        .collect()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FlashQuery {
    flash: Option<String>,
    kind: Option<String>,
}

/// Pairs waiting for a clerk: both records, the weight of every field, accept or reject.
#[utoipa::path(get, path = "/persons/reviews", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn reviews_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<FlashQuery>,
) -> Response {
    let r = async {
        let rows = s.persons.reviews(&pc.caller, q.kind.as_deref(), 100).await?;
        Ok(context! {
            kind => q.kind.clone().unwrap_or_else(|| "person".into()),
            reviews => rows.iter().map(|r| context! {
                id => r.id, a => format!("{}/{}", r.a_source, r.a_key), b => format!("{}/{}", r.b_source, r.b_key),
                probability => r.probability,
                explanation => serde_json::from_str::<serde_json::Value>(&r.explanation).unwrap_or_default(),
            }).collect::<Vec<_>>(),
            ..base(&pc, "person_reviews", &Flash::take(&pc, q.flash.as_deref()))
        })
    }
    .await;
    page("person_reviews.html", r)
}

/// Accept or reject a pair from the queue.
#[utoipa::path(post, path = "/persons/reviews/{id}", tag = "pages", params(("id" = i64, Path)), responses((status = 303, description = "redirect")))]
pub async fn review_decide(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    after(
        &pc,
        s.persons
            .decide(&pc.caller, id, &f.str("decision"), &f.str("reason"))
            .await,
        "/persons/reviews",
        "ok_saved",
        "/persons/reviews",
    )
}

/// A one-click check of a person, with the reason for each rule.
#[utoipa::path(get, path = "/persons/{id}/checks/{rule_set}", tag = "pages", params(("id" = String, Path), ("rule_set" = String, Path)), responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn check_page(
    State(s): State<AppState>,
    mut pc: PageCaller,
    Path((id, key)): Path<(String, String)>,
    Query(q): Query<FileQuery>,
) -> Response {
    pc.caller.purpose = blank(&q.purpose).map(str::to_owned);
    let (result, err) = match s.persons.check(&pc.caller, &id, &key).await {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(crate::i18n::say(pc.lang, &e))),
    };
    page(
        "person_check.html",
        Ok(context! {
            person_id => id,
            purpose => pc.caller.purpose.clone(),
            result => result,
            ..base(&pc, "persons", &Flash { ok: None, err })
        }),
    )
}

/// The rule sets of one-click checks.
#[utoipa::path(get, path = "/rules", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn rules_page(State(s): State<AppState>, pc: PageCaller) -> Response {
    let r = async {
        Ok(context! {
            rule_sets => s.persons.rule_sets(&pc.caller).await?,
            ..base(&pc, "rules", &Flash::default())
        })
    }
    .await;
    page("rules.html", r)
}

const SAMPLE: &str = "{\"income\": 800, \"properties\": 1, \"vehicles\": 0, \"enterprises\": 0, \"individual_businesses\": 0, \"housing_fund\": false, \"registered\": true, \"id_valid\": true, \"age\": 45}";

fn rule_context(
    pc: &PageCaller,
    row: &shuju_identity::RuleSetRow,
    jdm: &str,
    facts: &str,
    result: Option<shuju_identity::checks::CheckResult>,
    flash: &Flash,
) -> minijinja::Value {
    let pretty = serde_json::from_str::<serde_json::Value>(jdm)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| jdm.to_owned());
    context! {
        rule => row,
        grids => shuju_identity::grid::grids(jdm).unwrap_or_default(),
        jdm => pretty,
        facts => facts,
        result => result,
        can_edit => pc.caller.can(perm::IDENTITY_RULES),
        ..base(pc, "rules", flash)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RuleQuery {
    flash: Option<String>,
}

/// One rule set: its decision model to edit, and a test against sample facts.
#[utoipa::path(get, path = "/rules/{key}", tag = "pages", params(("key" = String, Path)), responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn rule_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Path(key): Path<String>,
    Query(q): Query<RuleQuery>,
) -> Response {
    let r = s.persons.rule_set(&pc.caller, &key).await;
    page(
        "rule.html",
        r.map(|row| {
            rule_context(
                &pc,
                &row,
                &row.jdm,
                SAMPLE,
                None,
                &Flash::take(&pc, q.flash.as_deref()),
            )
        }),
    )
}

/// Save the edited decision model as a new version.
#[utoipa::path(post, path = "/rules/{key}", tag = "pages", params(("key" = String, Path)), responses((status = 303, description = "redirect")))]
pub async fn rule_save(
    State(s): State<AppState>,
    Path(key): Path<String>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let to = format!("/rules/{key}");
    let saved = match edited_model(&f) {
        Ok(jdm) => {
            s.persons
                .save_rule_set(&pc.caller, &key, &f.str("name"), &jdm)
                .await
        }
        Err(e) => Err(e),
    };
    after(&pc, saved, &to, "ok_saved", &to)
}

/// The model as the editor left it: the JSON as typed (`editor=json`), or the JSON with the
/// decision-table grids written into it (cells `g{t}.r{i}.in{j}` / `.out{k}`, columns
/// `g{t}.in{j}.name` / `.field` — one blank column and row for adding — and `g{t}.r{i}.del`).
fn edited_model(f: &super::FormPairs) -> shuju_types::Result<String> {
    use shuju_identity::grid::{Column, Row, grids, with_grids};
    let jdm = f.str("jdm");
    if f.str("editor") != "grid" {
        return Ok(jdm);
    }
    let mut edited = grids(&jdm)?;
    for (t, g) in edited.iter_mut().enumerate() {
        let get = |k: String| f.get(&k);
        // Columns as shown, plus the blank one for a new input; a blank column is dropped.
        let shown = g.inputs.len();
        let mut keep: Vec<usize> = Vec::new();
        let mut inputs: Vec<Column> = Vec::new();
        for j in 0..=shown {
            let name = get(format!("g{t}.in{j}.name")).unwrap_or_default();
            let field = get(format!("g{t}.in{j}.field")).unwrap_or_default();
            if name.trim().is_empty() && field.trim().is_empty() {
                continue;
            }
            keep.push(j);
            inputs.push(Column {
                id: g.inputs.get(j).map(|c| c.id.clone()).unwrap_or_default(),
                name,
                field,
            });
        }
        let mut rows = Vec::new();
        for i in 0.. {
            if get(format!("g{t}.r{i}.out0")).is_none() {
                break;
            }
            if get(format!("g{t}.r{i}.del")).is_some() {
                continue;
            }
            rows.push(Row {
                inputs: keep
                    .iter()
                    .map(|j| get(format!("g{t}.r{i}.in{j}")).unwrap_or_default())
                    .collect(),
                outputs: (0..g.outputs.len())
                    .map(|k| get(format!("g{t}.r{i}.out{k}")).unwrap_or_default())
                    .collect(),
            });
        }
        g.inputs = inputs;
        g.rows = rows;
    }
    with_grids(&jdm, &edited)
}

/// Test the model in the editor (saved or not) on sample facts.
#[utoipa::path(post, path = "/rules/{key}/test", tag = "pages", params(("key" = String, Path)), responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn rule_test(
    State(s): State<AppState>,
    Path(key): Path<String>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let row = match s.persons.rule_set(&pc.caller, &key).await {
        Ok(r) => r,
        Err(e) => return super::page_error(e),
    };
    let facts = f.str("facts");
    let (jdm, outcome) = match edited_model(&f) {
        Err(e) => (f.str("jdm"), Err(e)),
        Ok(jdm) => {
            let outcome = match serde_json::from_str::<serde_json::Value>(&facts) {
                Ok(v) => {
                    s.persons
                        .test_rule_set(&pc.caller, &key, Some(&jdm), &v)
                        .await
                }
                Err(e) => Err(shuju_types::Error::invalid(
                    "facts",
                    format!("not JSON: {e}"),
                )),
            };
            (jdm, outcome)
        }
    };
    let (result, err) = match outcome {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(crate::i18n::say(pc.lang, &e))),
    };
    super::render(
        "rule.html",
        rule_context(&pc, &row, &jdm, &facts, result, &Flash { ok: None, err }),
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EnterpriseQuery {
    credit_code: Option<String>,
    name: Option<String>,
}

/// Search enterprises by credit code or name.
#[utoipa::path(get, path = "/enterprises", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn enterprises_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<EnterpriseQuery>,
) -> Response {
    let asked = blank(&q.credit_code).is_some() || blank(&q.name).is_some();
    let (found, err) = if asked {
        match s
            .enterprises
            .search(&pc.caller, blank(&q.credit_code), blank(&q.name))
            .await
        {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(crate::i18n::say(pc.lang, &e))),
        }
    } else {
        (None, None)
    };
    page(
        "enterprises.html",
        Ok(context! {
            q => context! { credit_code => q.credit_code, name => q.name },
            found => found,
            ..base(&pc, "enterprises", &Flash { ok: None, err })
        }),
    )
}

/// An enterprise's file.
#[utoipa::path(get, path = "/enterprises/{id}", tag = "pages", params(("id" = String, Path, description = "credit code, or the E… ID of an unregistered entity")), responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn enterprise_page(
    State(s): State<AppState>,
    mut pc: PageCaller,
    Path(code): Path<String>,
    Query(q): Query<FileQuery>,
) -> Response {
    let purpose = purpose_of(&mut pc, &q);
    let (file, err) = shown(
        pc.lang,
        match purpose {
            Some(_) => Some(s.enterprises.file(&pc.caller, &code).await),
            None => None,
        },
    );
    page(
        "enterprise.html",
        Ok(context! {
            id => code,
            purpose => purpose,
            file => file.map(|f| context! {
                enterprise_id => f.enterprise_id, credit_code => f.credit_code, name => f.name, status => f.status,
                person => f.legal_representative_person, masked => f.masked, credit => f.credit,
                facts => facts(&f.facts, pc.lang), licences => f.licences,
            }),
            ..base(&pc, "enterprises", &Flash { ok: None, err })
        }),
    )
}
