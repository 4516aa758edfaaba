//! One person, one file (一人一档): resolution runs, search, the single-record match, person files
//! and the clerical review queue. Answers name persons by their person ID and explain matches by
//! field, level and weight — never by the values compared.

use super::Paged;
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Path, Query};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shuju_types::Error;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(resolve))
        .routes(routes!(runs))
        .routes(routes!(links))
        .routes(routes!(clusters))
        .routes(routes!(export_links))
        .routes(routes!(match_record))
        .routes(routes!(reviews))
        .routes(routes!(decide))
        .routes(routes!(decision))
        .routes(routes!(file))
        .routes(routes!(check))
        .routes(routes!(rule_sets))
        .routes(routes!(rule_set, save_rule_set))
        .routes(routes!(test_rule_set))
        .routes(routes!(enterprise_search))
        .routes(routes!(enterprise_resolve))
        .routes(routes!(enterprise_runs))
        .routes(routes!(enterprise_file))
}

use shuju_identity::checks::CheckResult;
use shuju_identity::enterprises::{EnterpriseFile, EnterpriseHit};
use shuju_identity::persons::{Candidate, PersonFile, RunReport};

/// A resolution run as recorded.
#[derive(Serialize, ToSchema)]
pub struct RunView {
    pub id: i64,
    /// person | enterprise
    pub kind: String,
    pub records: i64,
    pub entities: i64,
    /// Counts and timings of the run.
    #[schema(value_type = Object)]
    pub stats: serde_json::Value,
    /// Entities created, merged and split.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    /// The table versions read.
    #[schema(value_type = Object)]
    pub versions: serde_json::Value,
    pub actor: String,
    pub finished_at: String,
}

fn runs_view(rows: Vec<shuju_identity::RunRow>) -> Vec<RunView> {
    let json = |s: &str| serde_json::from_str(s).unwrap_or(serde_json::Value::Null);
    rows.into_iter()
        .map(|r| RunView {
            stats: json(&r.stats),
            changes: json(&r.changes),
            versions: json(&r.versions),
            id: r.id,
            kind: r.kind,
            records: r.records,
            entities: r.entities,
            actor: r.actor,
            finished_at: r.finished_at,
        })
        .collect()
}

/// A pair of records waiting for a clerk.
#[derive(Serialize, ToSchema)]
pub struct ReviewView {
    pub id: i64,
    pub kind: String,
    pub a_source: String,
    pub a_key: String,
    pub b_source: String,
    pub b_key: String,
    pub probability: f64,
    /// The weight of every field compared (never the values).
    #[schema(value_type = Object)]
    pub explanation: serde_json::Value,
    pub run_id: i64,
}

/// A rule set's newest version.
#[derive(Serialize, ToSchema)]
pub struct RuleSetView {
    pub rule_key: String,
    pub version: i64,
    pub name: String,
    /// The JSON Decision Model, as text.
    pub jdm: String,
    pub updated_by: String,
    pub updated_at: String,
}

impl From<shuju_identity::RuleSetRow> for RuleSetView {
    fn from(r: shuju_identity::RuleSetRow) -> Self {
        RuleSetView {
            rule_key: r.rule_key,
            version: r.version,
            name: r.name,
            jdm: r.jdm,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
        }
    }
}

/// The version a rule set was saved as.
#[derive(Serialize, ToSchema)]
pub struct SavedRuleSet {
    pub rule_key: String,
    pub version: i64,
}

/// Run person resolution over the lake's sources; person IDs of the last run carry over and the
/// answer lists what was created, merged and split.
#[utoipa::path(post, path = "/api/v1/persons/resolve", tag = "persons", security(("bearer" = [])),
    responses((status = 200, body = RunReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn resolve(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Json<RunReport>> {
    Ok(Json(s.persons.resolve(&c).await?))
}

/// Resolution runs, newest first.
#[utoipa::path(get, path = "/api/v1/persons/runs", tag = "persons", security(("bearer" = [])),
    responses((status = 200, body = Vec<RunView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn runs(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Json<Vec<RunView>>> {
    Ok(Json(runs_view(s.persons.runs(&c).await?)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LinksQuery {
    /// `person` (the default) or `enterprise`.
    pub kind: Option<String>,
    /// One source (lake table).
    pub source: Option<String>,
    /// One run; 0: links made as deliveries landed before any run.
    pub run: Option<i64>,
    /// How records were linked: `id`, `model`, `new`, `alone`, `review` ….
    pub method: Option<String>,
    /// Clusters only: at least this many records (default 2).
    pub min_records: Option<i64>,
    pub page: Option<u32>,
    pub size: Option<u32>,
}

impl LinksQuery {
    fn filter(&self) -> shuju_identity::LinkFilter {
        shuju_identity::LinkFilter {
            source: self.source.clone(),
            within: None,
            run: self.run,
            method: self.method.clone(),
        }
    }
}

/// A source record and the entity it belongs to.
#[derive(Serialize, ToSchema)]
pub struct LinkView {
    pub source: String,
    /// The record's key in its source (a citizen ID masked unless you may read personal data).
    pub record_key: String,
    pub entity_id: String,
    pub method: String,
    pub run_id: i64,
}

/// An entity and how many records, from how many sources, it gathers.
#[derive(Serialize, ToSchema)]
pub struct ClusterView {
    pub entity_id: String,
    pub records: i64,
    pub sources: i64,
}

/// Every record's person (or enterprise), paged, by source and key; only the sources your data
/// scope covers.
#[utoipa::path(get, path = "/api/v1/persons/links", tag = "persons", security(("bearer" = [])), params(LinksQuery),
    responses((status = 200, body = Paged<LinkView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn links(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<LinksQuery>,
) -> ApiResult<Json<Paged<LinkView>>> {
    let p = s
        .persons
        .links(
            &c,
            q.kind.as_deref(),
            q.filter(),
            shuju_store::Page::new(q.page, q.size),
        )
        .await?;
    Ok(Json(Paged::map(p, |l| LinkView {
        source: l.source,
        record_key: l.record_key,
        entity_id: l.entity_id,
        method: l.method,
        run_id: l.run_id,
    })))
}

/// The persons (or enterprises) gathering several records, largest first, paged.
#[utoipa::path(get, path = "/api/v1/persons/clusters", tag = "persons", security(("bearer" = [])), params(LinksQuery),
    responses((status = 200, body = Paged<ClusterView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn clusters(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<LinksQuery>,
) -> ApiResult<Json<Paged<ClusterView>>> {
    let p = s
        .persons
        .clusters(
            &c,
            q.kind.as_deref(),
            q.filter(),
            q.min_records.unwrap_or(2),
            shuju_store::Page::new(q.page, q.size),
        )
        .await?;
    Ok(Json(Paged::map(p, |r| ClusterView {
        entity_id: r.entity_id,
        records: r.records,
        sources: r.sources,
    })))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `person` (the default) or `enterprise`.
    pub kind: Option<String>,
}

/// A run's links as CSV (source, record_key, entity_id, method, run_id), for audit; run 0 is
/// the links made as deliveries landed before any run. The export is itself audited.
#[utoipa::path(get, path = "/api/v1/persons/runs/{id}/links.csv", tag = "persons", security(("bearer" = [])), params(("id" = i64, Path), ExportQuery),
    responses((status = 200, description = "CSV, UTF-8", content_type = "text/csv"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export_links(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Query(q): Query<ExportQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let body = s.persons.export_links(&c, q.kind.as_deref(), id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"links-run-{id}.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// A citizen ID (GB 11643).
    pub citizen_id: Option<String>,
    /// A name, with `birth`.
    pub name: Option<String>,
    /// A birth date (20240102, 2024-01-02, …), with `name`.
    pub birth: Option<String>,
}

/// Find persons by citizen ID, or by name and birth date.
#[utoipa::path(get, path = "/api/v1/persons", tag = "persons", security(("bearer" = [])), params(SearchQuery),
    responses((status = 200, body = Vec<Candidate>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "no resolution has run yet", body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn search(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<Vec<Candidate>>> {
    Ok(Json(
        s.persons
            .search(
                &c,
                q.citizen_id.as_deref(),
                q.name.as_deref(),
                q.birth.as_deref(),
            )
            .await?,
    ))
}

/// A record to match against the resolved persons; any field may be missing.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchBody {
    pub citizen_id: Option<String>,
    pub name: Option<String>,
    pub sex: Option<String>,
    pub birth: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
}

/// Match one record: the best candidate persons with their probability and why.
#[utoipa::path(post, path = "/api/v1/persons/match", tag = "persons", security(("bearer" = [])), request_body = MatchBody,
    responses((status = 200, body = Vec<Candidate>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "no resolution has run yet", body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn match_record(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(b): Json<MatchBody>,
) -> ApiResult<Json<Vec<Candidate>>> {
    Ok(Json(
        s.persons
            .match_one(
                &c,
                b.citizen_id.as_deref(),
                [
                    b.name.as_deref(),
                    b.sex.as_deref(),
                    b.birth.as_deref(),
                    b.address.as_deref(),
                    b.phone.as_deref(),
                ],
            )
            .await?,
    ))
}

/// A person's file: every source record of the person, masked by the caller's permission. Send
/// the purpose in `X-Purpose`; the view is audited with it.
#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "persons", security(("bearer" = [])), params(("id" = String, Path)),
    params(("X-Purpose" = String, Header, description = "why the file is opened")),
    responses((status = 200, body = PersonFile), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn file(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<PersonFile>> {
    Ok(Json(s.persons.file(&c, &id).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReviewQuery {
    /// At most this many pairs (default 50).
    pub limit: Option<i64>,
    /// `person` (default) or `enterprise`.
    pub kind: Option<String>,
}

/// Pairs waiting for clerical review, most likely first, each with its explanation.
#[utoipa::path(get, path = "/api/v1/persons/reviews", tag = "persons", security(("bearer" = [])), params(ReviewQuery),
    responses((status = 200, body = Vec<ReviewView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn reviews(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<ReviewQuery>,
) -> ApiResult<Json<Vec<ReviewView>>> {
    let rows = s
        .persons
        .reviews(&c, q.kind.as_deref(), q.limit.unwrap_or(50).clamp(1, 500))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ReviewView {
                probability: r.probability.parse().unwrap_or(0.0),
                explanation: serde_json::from_str(&r.explanation).unwrap_or_default(),
                id: r.id,
                kind: r.kind,
                a_source: r.a_source,
                a_key: r.a_key,
                b_source: r.b_source,
                b_key: r.b_key,
                run_id: r.run_id,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = ReviewDecisionBody)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `accept` (one person) or `reject` (two).
    pub decision: String,
    pub reason: String,
}

/// Decide a pair in the queue. The decision is kept and every later run respects it.
#[utoipa::path(post, path = "/api/v1/persons/reviews/{id}", tag = "persons", security(("bearer" = [])), params(("id" = i64, Path)), request_body = DecisionBody,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn decide(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(b): Json<DecisionBody>,
) -> ApiResult<axum::http::StatusCode> {
    s.persons.decide(&c, id, &b.decision, &b.reason).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordRef {
    /// The lake table the record is in.
    pub source: String,
    /// The record's key there.
    pub key: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualDecision {
    /// `merge` (the two records' persons are one), `separate` (these two records are never one
    /// person) or `split` (this record stands alone).
    pub decision: String,
    pub a: RecordRef,
    pub b: Option<RecordRef>,
    pub reason: String,
    /// `person` (default) or `enterprise`.
    pub kind: Option<String>,
}

/// Merge two records' persons, keep two records apart, or split a record off into a person of
/// its own; applied by every later run before the model.
#[utoipa::path(post, path = "/api/v1/persons/decisions", tag = "persons", security(("bearer" = [])), request_body = ManualDecision,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn decision(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(b): Json<ManualDecision>,
) -> ApiResult<axum::http::StatusCode> {
    let kind = match b.decision.as_str() {
        "merge" => "accept",
        "separate" => "reject",
        "split" => "alone",
        _ => return Err(Error::invalid("decision", "merge, separate or split").into()),
    };
    s.persons
        .record_decision(
            &c,
            b.kind.as_deref(),
            kind,
            (&b.a.source, &b.a.key),
            b.b.as_ref().map(|r| (r.source.as_str(), r.key.as_str())),
            &b.reason,
            None,
        )
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// A one-click check of a person with a rule set: yes or no and the reason for each rule. Send
/// the purpose in `X-Purpose`; the check is audited with it.
#[utoipa::path(post, path = "/api/v1/persons/{id}/checks/{rule_set}", tag = "persons", security(("bearer" = [])), params(("id" = String, Path), ("rule_set" = String, Path)),
    params(("X-Purpose" = String, Header, description = "why the person is checked")),
    responses((status = 200, body = CheckResult), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn check(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult<Json<CheckResult>> {
    Ok(Json(s.persons.check(&c, &id, &key).await?))
}

/// The rule sets of one-click checks (newest versions), each a GoRules JSON Decision Model.
#[utoipa::path(get, path = "/api/v1/rules", tag = "persons", security(("bearer" = [])),
    responses((status = 200, body = Vec<RuleSetView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn rule_sets(
    State(s): State<AppState>,
    Auth(c): Auth,
) -> ApiResult<Json<Vec<RuleSetView>>> {
    Ok(Json(
        s.persons
            .rule_sets(&c)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// One rule set, newest version.
#[utoipa::path(get, path = "/api/v1/rules/{key}", tag = "persons", security(("bearer" = [])), params(("key" = String, Path)),
    responses((status = 200, body = RuleSetView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rule_set(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(key): Path<String>,
) -> ApiResult<Json<RuleSetView>> {
    Ok(Json(s.persons.rule_set(&c, &key).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSetBody {
    pub name: String,
    /// The JSON Decision Model (as the GoRules editor saves it). Only input, output,
    /// decision-table, expression and switch nodes are accepted.
    #[schema(value_type = Object)]
    pub jdm: serde_json::Value,
    /// The replay of this draft over past cases, seen by another account: needed when the rule
    /// set decides instant matters (秒批).
    #[serde(default)]
    pub replay: Option<i64>,
}

/// Save a new version of a rule set (one deciding instant matters: with a replay of this draft
/// that another account has seen).
#[utoipa::path(put, path = "/api/v1/rules/{key}", tag = "persons", security(("bearer" = [])), params(("key" = String, Path)), request_body = RuleSetBody,
    responses((status = 200, body = SavedRuleSet), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn save_rule_set(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(key): Path<String>,
    Json(b): Json<RuleSetBody>,
) -> ApiResult<Json<SavedRuleSet>> {
    let version = s
        .services
        .publish_rules(&c, &key, &b.name, &b.jdm.to_string(), b.replay)
        .await?;
    Ok(Json(SavedRuleSet {
        rule_key: key,
        version,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestBody {
    /// Sample facts, as a person's file gives them.
    #[schema(value_type = Object)]
    pub facts: serde_json::Value,
    /// A draft to try instead of the saved version.
    #[schema(value_type = Object)]
    pub jdm: Option<serde_json::Value>,
}

/// Run a rule set (or a draft) on sample facts.
#[utoipa::path(post, path = "/api/v1/rules/{key}/test", tag = "persons", security(("bearer" = [])), params(("key" = String, Path)), request_body = TestBody,
    responses((status = 200, body = CheckResult), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn test_rule_set(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(key): Path<String>,
    Json(b): Json<TestBody>,
) -> ApiResult<Json<CheckResult>> {
    let draft = b.jdm.map(|j| j.to_string());
    Ok(Json(
        s.persons
            .test_rule_set(&c, &key, draft.as_deref(), &b.facts)
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseQuery {
    /// A unified social credit code (GB 32100) or an old registration number (GS 15).
    pub credit_code: Option<String>,
    /// A part of the name.
    pub name: Option<String>,
}

/// Find enterprises by credit code or name.
#[utoipa::path(get, path = "/api/v1/enterprises", tag = "enterprises", security(("bearer" = [])), params(EnterpriseQuery),
    responses((status = 200, body = Vec<EnterpriseHit>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn enterprise_search(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<EnterpriseQuery>,
) -> ApiResult<Json<Vec<EnterpriseHit>>> {
    Ok(Json(
        s.enterprises
            .search(&c, q.credit_code.as_deref(), q.name.as_deref())
            .await?,
    ))
}

/// Resolve every enterprise source in the lake: credit codes (old registration numbers and
/// organisation codes read through the registry) link deterministically, the rest by the model.
#[utoipa::path(post, path = "/api/v1/enterprises/resolve", tag = "enterprises", security(("bearer" = [])),
    responses((status = 200, body = RunReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn enterprise_resolve(
    State(s): State<AppState>,
    Auth(c): Auth,
) -> ApiResult<Json<RunReport>> {
    Ok(Json(s.enterprises.resolve(&c).await?))
}

/// Enterprise resolution runs, newest first.
#[utoipa::path(get, path = "/api/v1/enterprises/runs", tag = "enterprises", security(("bearer" = [])),
    responses((status = 200, body = Vec<RunView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn enterprise_runs(
    State(s): State<AppState>,
    Auth(c): Auth,
) -> ApiResult<Json<Vec<RunView>>> {
    Ok(Json(runs_view(s.enterprises.runs(&c).await?)))
}

/// An enterprise's file — by credit code, or the `E…` ID of an entity no registry knows:
/// registration, legal representative and shareholders (with their person IDs), licences,
/// penalties, inspections and a credit summary, each fact with its table, version and dates,
/// masked by the caller's permission. Send the purpose in `X-Purpose`; the view is audited with it.
#[utoipa::path(get, path = "/api/v1/enterprises/{id}", tag = "enterprises", security(("bearer" = [])), params(("id" = String, Path)),
    params(("X-Purpose" = String, Header, description = "why the file is opened")),
    responses((status = 200, body = EnterpriseFile), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn enterprise_file(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(code): Path<String>,
) -> ApiResult<Json<EnterpriseFile>> {
    Ok(Json(s.enterprises.file(&c, &code).await?))
}
