//! Data elements (数据元) and the facts defined over them: the registry officials read, the bureau
//! edits and imports from Excel; a table's code maps (a department's codes → an element's); the
//! facts checks read, each edit a new version.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Path};
use axum::extract::{Multipart, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use shuju_catalog::elements::{Element, ElementImport};
use shuju_identity::facts::FactDef;
use shuju_types::Error;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get, save))
        .routes(routes!(export))
        .routes(routes!(import))
        .routes(routes!(map_codes))
        .routes(routes!(facts))
        .routes(routes!(fact_history, save_fact))
        .routes(routes!(person_facts))
}

/// The data elements, newest versions.
#[utoipa::path(get, path = "/api/v1/elements", tag = "elements", security(("bearer" = [])),
    responses((status = 200, body = Vec<Element>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Json<Vec<Element>>> {
    Ok(Json(s.catalog.list_elements(&c).await?))
}

/// A data element with every saved version, newest first.
#[derive(Serialize, ToSchema)]
pub struct ElementHistory {
    pub element: Element,
    pub versions: Vec<Element>,
}

/// One data element and its versions.
#[utoipa::path(get, path = "/api/v1/elements/{id}", tag = "elements", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ElementHistory), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ElementHistory>> {
    let versions = s.catalog.element_history(&c, &id).await?;
    Ok(Json(ElementHistory {
        element: versions[0].clone(),
        versions,
    }))
}

/// A saved version.
#[derive(Serialize, ToSchema)]
pub struct Saved {
    pub name: String,
    pub version: i64,
}

/// Save a data element (new, or a new version; an unchanged one keeps its version).
#[utoipa::path(put, path = "/api/v1/elements/{id}", tag = "elements", security(("bearer" = [])), params(("id" = String, Path)), request_body = Element,
    responses((status = 200, body = Saved), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn save(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    Json(e): Json<Element>,
) -> ApiResult<Json<Saved>> {
    if e.id != id {
        return Err(Error::invalid("id", "the element's id is the one in the path").into());
    }
    let version = s.catalog.save_element(&c, e).await?;
    Ok(Json(Saved { name: id, version }))
}

/// The data elements as an Excel workbook (one element per row; it imports back).
#[utoipa::path(get, path = "/api/v1/elements/export", tag = "elements", security(("bearer" = [])),
    responses((status = 200, description = "an .xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn export(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Response> {
    Ok(super::departments::xlsx(
        s.catalog.export_elements(&c).await?,
        "data-elements.xlsx",
    ))
}

/// Import data elements from Excel (multipart: `file`): the good rows are saved, the bad ones
/// reported by row.
#[utoipa::path(post, path = "/api/v1/elements/import", tag = "elements", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "file: the .xlsx workbook"),
    responses((status = 200, body = ElementImport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn import(
    State(s): State<AppState>,
    Auth(c): Auth,
    m: Multipart,
) -> ApiResult<Json<ElementImport>> {
    let up = super::departments::read_upload(m).await?;
    Ok(Json(s.catalog.import_elements(&c, &up.file).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodesBody {
    /// The department's code → the element's code or label (`{"M": "1", "F": "女性"}`).
    pub codes: BTreeMap<String, String>,
}

/// Map a department's codes for one column of a table to its data element's code table (added
/// to what the column had); the next delivery is standardised through them.
#[utoipa::path(put, path = "/api/v1/lake/tables/{name}/codes/{column}", tag = "lake", security(("bearer" = [])),
    params(("name" = String, Path), ("column" = String, Path)), request_body = CodesBody,
    responses((status = 200, body = super::lake::TableSpecView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn map_codes(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((name, column)): Path<(String, String)>,
    Json(b): Json<CodesBody>,
) -> ApiResult<Json<super::lake::TableSpecView>> {
    let spec =
        shuju_catalog::lake::map_codes(&s.catalog, &s.lake, &c, &name, &column, &b.codes).await?;
    Ok(Json(spec.into()))
}

/// The facts checks read, newest versions.
#[utoipa::path(get, path = "/api/v1/facts", tag = "persons", security(("bearer" = [])),
    responses((status = 200, body = Vec<FactDef>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn facts(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Json<Vec<FactDef>>> {
    Ok(Json(s.persons.facts(&c).await?))
}

/// Every version of a fact, newest first.
#[utoipa::path(get, path = "/api/v1/facts/{name}", tag = "persons", security(("bearer" = [])), params(("name" = String, Path)),
    responses((status = 200, body = Vec<FactDef>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn fact_history(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<FactDef>>> {
    Ok(Json(s.persons.fact_history(&c, &name).await?))
}

/// Save a fact's definition: a new version (an unchanged one keeps its version). The elements it
/// names must be in the registry.
#[utoipa::path(put, path = "/api/v1/facts/{name}", tag = "persons", security(("bearer" = [])), params(("name" = String, Path)), request_body = FactDef,
    responses((status = 200, body = Saved), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn save_fact(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(name): Path<String>,
    Json(d): Json<FactDef>,
) -> ApiResult<Json<Saved>> {
    if d.name != name {
        return Err(Error::invalid("name", "the fact's name is the one in the path").into());
    }
    let version = s
        .persons
        .save_fact(&c, d, &s.catalog.element_ids().await?)
        .await?;
    Ok(Json(Saved { name, version }))
}

/// A person's facts, by the definitions' names.
#[derive(Serialize, ToSchema)]
pub struct PersonFacts {
    pub person_id: String,
    /// Fact name → its answer (true/false, a number, a code, a list of codes, or null).
    #[schema(value_type = Object)]
    pub facts: serde_json::Value,
}

/// The facts of a person's file, as the checks read them (needs `X-Purpose`; audited with the
/// fact versions).
#[utoipa::path(get, path = "/api/v1/persons/{id}/facts", tag = "persons", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = PersonFacts), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn person_facts(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<PersonFacts>> {
    let facts = s.persons.facts_of(&c, &id).await?;
    Ok(Json(PersonFacts {
        person_id: id,
        facts,
    }))
}
