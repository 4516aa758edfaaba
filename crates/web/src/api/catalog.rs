//! The resource catalog: entries and their lifecycle, search, versions, Excel, error correction,
//! information systems, and the DCAT-AP 3 export.

use super::{Done, Paged};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Path, Query};
use crate::{AppState, WebConfig};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shuju_admin::perm;
use shuju_catalog::model::Entry;
use shuju_catalog::rows::{
    CorrectionRow, EntryFilter, EventRow, InfoSystem, InfoSystemFields, VersionRow,
};
use shuju_catalog::search::SearchQuery;
use shuju_catalog::{CorrectionView, EntryView as DomainEntry, FieldChange};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes(cfg: &WebConfig) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(submit))
        .routes(routes!(approve))
        .routes(routes!(return_entry))
        .routes(routes!(offline))
        .routes(routes!(history))
        .routes(routes!(compare))
        .routes(routes!(search))
        .routes(routes!(export))
        .routes(routes!(template))
        .routes(routes!(report_error))
        .routes(routes!(corrections))
        .routes(routes!(answer_error))
        .routes(routes!(systems, create_system))
        .routes(routes!(update_system))
        .routes(routes!(dcat))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(import))
                .layer(DefaultBodyLimit::max(cfg.upload_limit)),
        )
}

#[derive(Serialize, ToSchema)]
pub struct EntryView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub provider_dept_id: i64,
    /// draft | submitted | published | offline
    pub status: String,
    /// The newest content version.
    pub version: i64,
    /// The version other departments see, if published.
    pub published_version: Option<i64>,
    /// The reviewer's reason when the entry was returned or taken offline.
    pub review_note: Option<String>,
    pub entry: Entry,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

impl From<DomainEntry> for EntryView {
    fn from(v: DomainEntry) -> Self {
        let r = v.row;
        EntryView {
            id: r.id,
            code: r.code,
            name: r.name,
            provider_dept_id: r.provider_dept_id,
            status: r.status,
            version: r.version,
            published_version: r.published_version,
            review_note: r.review_note,
            entry: v.entry,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Part of the name, or the start of the code.
    pub name: Option<String>,
    pub status: Option<String>,
    /// Only entries of this department and those below it.
    pub under: Option<i64>,
    pub page: Option<u32>,
    pub size: Option<u32>,
}

/// The entries the caller manages (their providers are in the caller's data scope), any state.
#[utoipa::path(get, path = "/api/v1/catalog/entries", tag = "catalog", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Paged<EntryView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Paged<EntryView>>> {
    let f = EntryFilter {
        name: q.name,
        status: q.status,
        ..Default::default()
    };
    let p = s
        .catalog
        .list_managed(&c, f, q.under, shuju_store::Page::new(q.page, q.size))
        .await?;
    Ok(Json(Paged::map(p, Into::into)))
}

/// Register an entry (a draft). Every rule is checked; a refusal names the field.
#[utoipa::path(post, path = "/api/v1/catalog/entries", tag = "catalog", security(("bearer" = [])), request_body = Entry,
    responses((status = 200, body = EntryView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(e): Json<Entry>,
) -> ApiResult<Json<EntryView>> {
    Ok(Json(s.catalog.create(&c, e).await?.into()))
}

/// One entry: your own in any state, others' as published.
#[utoipa::path(get, path = "/api/v1/catalog/entries/{id}", tag = "catalog", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = EntryView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<EntryView>> {
    Ok(Json(s.catalog.get(&c, id).await?.into()))
}

/// Change an entry; a new version is created. A published entry stays visible as published until
/// the change is approved.
#[utoipa::path(put, path = "/api/v1/catalog/entries/{id}", tag = "catalog", security(("bearer" = [])), params(("id" = i64, Path)), request_body = Entry,
    responses((status = 200, body = EntryView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(e): Json<Entry>,
) -> ApiResult<Json<EntryView>> {
    Ok(Json(s.catalog.update(&c, id, e).await?.into()))
}

/// Remove a draft that was never published.
#[utoipa::path(delete, path = "/api/v1/catalog/entries/{id}", tag = "catalog", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Done), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Done>> {
    s.catalog.delete(&c, id).await?;
    Ok(Done::ok())
}

/// Provider: submit a draft for the bureau's review.
#[utoipa::path(post, path = "/api/v1/catalog/entries/{id}/submit", tag = "catalog", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = EntryView), (status = 409, body = ErrorBody)))]
pub async fn submit(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<EntryView>> {
    Ok(Json(s.catalog.submit(&c, id).await?.into()))
}

/// Reviewer: publish a submitted entry.
#[utoipa::path(post, path = "/api/v1/catalog/entries/{id}/approve", tag = "catalog", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = EntryView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<EntryView>> {
    Ok(Json(s.catalog.approve(&c, id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    pub reason: String,
}

/// Reviewer: return a submitted entry to its provider, with the reason.
#[utoipa::path(post, path = "/api/v1/catalog/entries/{id}/return", tag = "catalog", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ReasonRequest,
    responses((status = 200, body = EntryView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn return_entry(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(r): Json<ReasonRequest>,
) -> ApiResult<Json<EntryView>> {
    Ok(Json(
        s.catalog.return_entry(&c, id, &r.reason).await?.into(),
    ))
}

/// Take a published entry offline, with the reason.
#[utoipa::path(post, path = "/api/v1/catalog/entries/{id}/offline", tag = "catalog", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ReasonRequest,
    responses((status = 200, body = EntryView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn offline(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(r): Json<ReasonRequest>,
) -> ApiResult<Json<EntryView>> {
    Ok(Json(s.catalog.offline(&c, id, &r.reason).await?.into()))
}

#[derive(Serialize, ToSchema)]
pub struct VersionView {
    pub version: i64,
    pub created_by: String,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct EventView {
    pub version: i64,
    /// create | update | import | submit | approve | return | offline | delete
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: Option<String>,
    pub actor: String,
    pub at: String,
}

#[derive(Serialize, ToSchema)]
pub struct HistoryView {
    pub versions: Vec<VersionView>,
    pub events: Vec<EventView>,
}

impl From<(Vec<VersionRow>, Vec<EventRow>)> for HistoryView {
    fn from((v, e): (Vec<VersionRow>, Vec<EventRow>)) -> Self {
        HistoryView {
            versions: v
                .into_iter()
                .map(|v| VersionView {
                    version: v.version,
                    created_by: v.created_by,
                    created_at: v.created_at,
                })
                .collect(),
            events: e
                .into_iter()
                .map(|e| EventView {
                    version: e.version,
                    action: e.action,
                    from_status: e.from_status,
                    to_status: e.to_status,
                    note: e.note,
                    actor: e.actor,
                    at: e.at,
                })
                .collect(),
        }
    }
}

/// An entry's versions and lifecycle events.
#[utoipa::path(get, path = "/api/v1/catalog/entries/{id}/history", tag = "catalog", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = HistoryView), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<HistoryView>> {
    Ok(Json(s.catalog.history(&c, id).await?.into()))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompareQuery {
    pub a: i64,
    pub b: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ChangeView {
    /// A path such as `items[2].sharing`.
    pub field: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// What changed between two versions of an entry.
#[utoipa::path(get, path = "/api/v1/catalog/entries/{id}/compare", tag = "catalog", security(("bearer" = [])), params(("id" = i64, Path), CompareQuery),
    responses((status = 200, body = Vec<ChangeView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn compare(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Query(q): Query<CompareQuery>,
) -> ApiResult<Json<Vec<ChangeView>>> {
    let d = s.catalog.compare(&c, id, q.a, q.b).await?;
    Ok(Json(
        d.into_iter()
            .map(
                |FieldChange {
                     field,
                     before,
                     after,
                 }| ChangeView {
                    field,
                    before,
                    after,
                },
            )
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to look for in names, summaries and item names (Chinese is segmented).
    pub q: Option<String>,
    /// Search the entries you manage (any state) instead of the published catalog.
    pub mine: Option<bool>,
    /// Only entries of this department and those below it.
    pub under: Option<i64>,
    pub status: Option<String>,
    /// Facet filters.
    pub provider: Option<String>,
    pub library: Option<String>,
    pub sharing: Option<String>,
    pub cycle: Option<String>,
    pub format: Option<String>,
    pub page: Option<u32>,
    pub size: Option<u32>,
}

impl SearchParams {
    pub fn query(&self) -> SearchQuery {
        let page = shuju_store::Page::new(self.page, self.size);
        let mut facets = Vec::new();
        for (dim, v) in [
            ("provider", &self.provider),
            ("library", &self.library),
            ("sharing", &self.sharing),
            ("cycle", &self.cycle),
            ("format", &self.format),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                facets.push((dim.to_owned(), v.to_owned()));
            }
        }
        SearchQuery {
            text: self.q.clone(),
            status: self.status.clone(),
            facets,
            offset: ((page.page - 1) * page.size) as usize,
            limit: page.size as usize,
            ..Default::default()
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

#[derive(Serialize, ToSchema)]
pub struct SearchView {
    pub total: usize,
    pub page: u32,
    pub size: u32,
    pub items: Vec<EntryView>,
    /// For each of provider, library, sharing, cycle, format: the values with their counts.
    pub facets: std::collections::BTreeMap<String, Vec<FacetValue>>,
}

/// Full-text search with facets over the published catalog (or, with `mine=true`, the entries
/// you manage).
#[utoipa::path(get, path = "/api/v1/catalog/search", tag = "catalog", security(("bearer" = [])), params(SearchParams),
    responses((status = 200, body = SearchView), (status = 403, body = ErrorBody)))]
pub async fn search(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(p): Query<SearchParams>,
) -> ApiResult<Json<SearchView>> {
    let page = shuju_store::Page::new(p.page, p.size);
    let (hits, views) = s
        .catalog
        .search(&c, p.query(), p.mine.unwrap_or(false), p.under)
        .await?;
    Ok(Json(SearchView {
        total: hits.total,
        page: page.page,
        size: page.size,
        items: views.into_iter().map(Into::into).collect(),
        facets: hits
            .facets
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    v.into_iter()
                        .map(|(value, count)| FacetValue { value, count })
                        .collect(),
                )
            })
            .collect(),
    }))
}

/// Export the entries you manage as Excel, in the 2017 guide's layout.
#[utoipa::path(get, path = "/api/v1/catalog/export", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, description = "an .xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 403, body = ErrorBody)))]
pub async fn export(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Response> {
    Ok(super::departments::xlsx(
        s.catalog.export(&c).await?,
        "catalog.xlsx",
    ))
}

/// The Excel template for registering entries.
#[utoipa::path(get, path = "/api/v1/catalog/template", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, description = "an .xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn template(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Response> {
    if !c.can(perm::CATALOG_ADD) {
        c.require(
            &s.store,
            perm::CATALOG_IMPORT,
            "catalog.template",
            "catalog_entry",
            None,
        )
        .await?;
    }
    Ok(super::departments::xlsx(
        shuju_catalog::excel::template(s.catalog.coding())?,
        "catalog-template.xlsx",
    ))
}

/// Import entries from Excel (multipart: `file`; `partial=true` imports the good entries of a file
/// with bad rows; `publish=true` lets a reviewer register an existing catalog as published).
#[utoipa::path(post, path = "/api/v1/catalog/import", tag = "catalog", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "file: the .xlsx workbook; partial, publish: true/false"),
    responses((status = 200, body = super::departments::ImportView), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn import(
    State(s): State<AppState>,
    Auth(c): Auth,
    m: Multipart,
) -> ApiResult<Json<super::departments::ImportView>> {
    let up = super::departments::read_upload(m).await?;
    Ok(Json(
        s.catalog
            .import(&c, &up.file, up.flag("partial"), up.flag("publish"))
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    pub description: String,
}

#[derive(Serialize, ToSchema)]
pub struct CorrectionViewDto {
    pub id: i64,
    pub entry_id: i64,
    pub reporter: String,
    pub reporter_dept_id: Option<i64>,
    pub description: String,
    /// open | answered
    pub status: String,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<String>,
    pub created_at: String,
}

impl From<CorrectionRow> for CorrectionViewDto {
    fn from(r: CorrectionRow) -> Self {
        CorrectionViewDto {
            id: r.id,
            entry_id: r.entry_id,
            reporter: r.reporter,
            reporter_dept_id: r.reporter_dept_id,
            description: r.description,
            status: r.status,
            answer: r.answer,
            answered_by: r.answered_by,
            answered_at: r.answered_at,
            created_at: r.created_at,
        }
    }
}

/// Report an error in a published entry (纠错); its provider must answer.
#[utoipa::path(post, path = "/api/v1/catalog/entries/{id}/corrections", tag = "catalog", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ReportRequest,
    responses((status = 200, body = CorrectionViewDto), (status = 400, body = ErrorBody)))]
pub async fn report_error(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(r): Json<ReportRequest>,
) -> ApiResult<Json<CorrectionViewDto>> {
    Ok(Json(
        s.catalog.report_error(&c, id, &r.description).await?.into(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CorrectionQuery {
    /// to_answer (reports on your entries) or mine (reports you made); default to_answer.
    pub view: Option<String>,
    /// open | answered
    pub status: Option<String>,
    pub page: Option<u32>,
    pub size: Option<u32>,
}

/// Error reports to answer, or made by your department.
#[utoipa::path(get, path = "/api/v1/catalog/corrections", tag = "catalog", security(("bearer" = [])), params(CorrectionQuery),
    responses((status = 200, body = Paged<CorrectionViewDto>), (status = 400, body = ErrorBody)))]
pub async fn corrections(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<CorrectionQuery>,
) -> ApiResult<Json<Paged<CorrectionViewDto>>> {
    let view = match q.view.as_deref() {
        None | Some("to_answer") => CorrectionView::ToAnswer,
        Some("mine") => CorrectionView::Mine,
        Some(_) => {
            return Err(shuju_types::Error::invalid("view", "must be to_answer or mine").into());
        }
    };
    let p = s
        .catalog
        .corrections(&c, view, q.status, shuju_store::Page::new(q.page, q.size))
        .await?;
    Ok(Json(Paged::map(p, Into::into)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub answer: String,
}

/// The provider answers an error report.
#[utoipa::path(post, path = "/api/v1/catalog/corrections/{id}/answer", tag = "catalog", security(("bearer" = [])), params(("id" = i64, Path)), request_body = AnswerRequest,
    responses((status = 200, body = CorrectionViewDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn answer_error(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(r): Json<AnswerRequest>,
) -> ApiResult<Json<CorrectionViewDto>> {
    Ok(Json(
        s.catalog.answer_error(&c, id, &r.answer).await?.into(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct SystemView {
    pub id: i64,
    pub name: String,
    pub owner_dept_id: i64,
    /// gov_cloud | self_hosted | other
    pub hosting: String,
    /// active | retired
    pub status: String,
    pub description: Option<String>,
    pub updated_at: String,
}

impl From<InfoSystem> for SystemView {
    fn from(s: InfoSystem) -> Self {
        SystemView {
            id: s.id,
            name: s.name,
            owner_dept_id: s.owner_dept_id,
            hosting: s.hosting,
            status: s.status,
            description: s.description,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemRequest {
    pub name: String,
    pub owner_dept_id: i64,
    /// gov_cloud | self_hosted | other
    pub hosting: String,
    pub status: Option<String>,
    pub description: Option<String>,
}

impl From<SystemRequest> for InfoSystemFields {
    fn from(r: SystemRequest) -> Self {
        InfoSystemFields {
            name: r.name,
            owner_dept_id: r.owner_dept_id,
            hosting: r.hosting,
            status: r.status.unwrap_or_default(),
            description: r.description,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SystemQuery {
    pub name: Option<String>,
    pub page: Option<u32>,
    pub size: Option<u32>,
}

/// Information systems of the departments in your data scope.
#[utoipa::path(get, path = "/api/v1/catalog/systems", tag = "catalog", security(("bearer" = [])), params(SystemQuery),
    responses((status = 200, body = Paged<SystemView>), (status = 403, body = ErrorBody)))]
pub async fn systems(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<SystemQuery>,
) -> ApiResult<Json<Paged<SystemView>>> {
    let p = s
        .catalog
        .list_systems(
            &c,
            q.name.as_deref(),
            shuju_store::Page::new(q.page, q.size),
        )
        .await?;
    Ok(Json(Paged::map(p, Into::into)))
}

/// Register an information system.
#[utoipa::path(post, path = "/api/v1/catalog/systems", tag = "catalog", security(("bearer" = [])), request_body = SystemRequest,
    responses((status = 200, body = SystemView), (status = 400, body = ErrorBody)))]
pub async fn create_system(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(r): Json<SystemRequest>,
) -> ApiResult<Json<SystemView>> {
    Ok(Json(s.catalog.create_system(&c, r.into()).await?.into()))
}

/// Update an information system.
#[utoipa::path(put, path = "/api/v1/catalog/systems/{id}", tag = "catalog", security(("bearer" = [])), params(("id" = i64, Path)), request_body = SystemRequest,
    responses((status = 200, body = SystemView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_system(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(r): Json<SystemRequest>,
) -> ApiResult<Json<SystemView>> {
    Ok(Json(
        s.catalog.update_system(&c, id, r.into()).await?.into(),
    ))
}

/// A DCAT-AP 3 catalog in JSON-LD: its context, identity, title and datasets (each a
/// `dcat:Dataset` with its publisher, themes, keywords, access rights and distributions).
#[derive(Serialize, ToSchema)]
pub struct DcatCatalog {
    #[serde(rename = "@context")]
    #[schema(value_type = Object)]
    pub context: serde_json::Value,
    #[serde(rename = "@id")]
    pub id: String,
    /// `dcat:Catalog`
    #[serde(rename = "@type")]
    pub kind: String,
    #[serde(rename = "dct:title")]
    #[schema(value_type = Object)]
    pub title: serde_json::Value,
    /// Language-tagged descriptions (`{"@value", "@language"}`), Chinese and English.
    #[serde(rename = "dct:description")]
    #[schema(value_type = Vec<Object>)]
    pub description: serde_json::Value,
    /// The bureau that publishes the catalog (`foaf:Agent`).
    #[serde(rename = "dct:publisher")]
    #[schema(value_type = Object)]
    pub publisher: serde_json::Value,
    /// The libraries (基础库, 主题库, 部门库) the datasets' themes come from.
    #[serde(rename = "dcat:themeTaxonomy")]
    #[schema(value_type = Object)]
    pub theme_taxonomy: serde_json::Value,
    #[serde(rename = "dcat:dataset")]
    #[schema(value_type = Vec<Object>)]
    pub dataset: serde_json::Value,
}

/// The published catalog as DCAT-AP 3 (JSON-LD).
#[utoipa::path(get, path = "/api/v1/catalog/dcat", tag = "catalog",
    responses((status = 200, description = "DCAT-AP 3 catalog, JSON-LD", body = DcatCatalog, content_type = "application/ld+json")))]
pub async fn dcat(
    State(s): State<AppState>,
    crate::extract::MaybeAuth(who): crate::extract::MaybeAuth,
) -> ApiResult<Response> {
    let audience = crate::api::ckan::Audience::of(&s, &who)?;
    let doc = crate::api::ckan::dcat_document(&s, audience).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/ld+json")],
        serde_json::to_vec(&doc).unwrap_or_default(),
    )
        .into_response())
}
