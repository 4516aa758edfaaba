//! Dictionaries.

use super::{Done, PageParams, Paged};
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Path, Query};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shuju_admin::dicts::{DictItem, DictType};
use shuju_admin::dicts::{validate_item, validate_type};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(create_item))
        .routes(routes!(update_item, delete_item))
        .routes(routes!(items_by_key))
}

#[derive(Serialize, ToSchema)]
pub struct DictTypeView {
    pub id: i64,
    pub type_key: String,
    pub name: String,
    pub status: String,
    pub remark: Option<String>,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<DictItemView>>,
}

impl From<DictType> for DictTypeView {
    fn from(t: DictType) -> Self {
        DictTypeView {
            id: t.id,
            type_key: t.type_key,
            name: t.name,
            status: t.status,
            remark: t.remark,
            updated_at: t.updated_at,
            items: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DictItemView {
    pub id: i64,
    pub type_id: i64,
    pub label: String,
    pub value: String,
    pub sort_order: i64,
    pub color: Option<String>,
    pub status: String,
}

impl From<DictItem> for DictItemView {
    fn from(i: DictItem) -> Self {
        DictItemView {
            id: i.id,
            type_id: i.type_id,
            label: i.label,
            value: i.value,
            sort_order: i.sort_order,
            color: i.color,
            status: i.status,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DictTypeRequest {
    /// Ignored on update.
    pub type_key: String,
    pub name: String,
    pub status: Option<String>,
    pub remark: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DictItemRequest {
    pub label: String,
    pub value: String,
    pub sort_order: Option<i64>,
    /// `#rrggbb` or default / primary / success / info / warning / danger
    pub color: Option<String>,
    pub status: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DictQuery {
    pub name: Option<String>,
    pub page: Option<u32>,
    pub size: Option<u32>,
}

/// Dictionary types.
#[utoipa::path(get, path = "/api/v1/dicts", tag = "dicts", security(("bearer" = [])), params(DictQuery),
    responses((status = 200, body = Paged<DictTypeView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<DictQuery>,
) -> ApiResult<Json<Paged<DictTypeView>>> {
    let page = PageParams {
        page: q.page,
        size: q.size,
    }
    .page();
    Ok(Json(Paged::map(
        s.admin.list_dict_types(&c, q.name.as_deref(), page).await?,
        Into::into,
    )))
}

/// Create a dictionary type.
#[utoipa::path(post, path = "/api/v1/dicts", tag = "dicts", security(("bearer" = [])), request_body = DictTypeRequest,
    responses((status = 200, body = DictTypeView), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(r): Json<DictTypeRequest>,
) -> ApiResult<Json<DictTypeView>> {
    let f = validate_type(&r.type_key, &r.name, r.status, r.remark);
    Ok(Json(s.admin.create_dict_type(&c, f).await?.into()))
}

/// One dictionary type with its items.
#[utoipa::path(get, path = "/api/v1/dicts/{id}", tag = "dicts", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = DictTypeView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<DictTypeView>> {
    let (t, items) = s.admin.dict_type(&c, id).await?;
    let mut v: DictTypeView = t.into();
    v.items = Some(items.into_iter().map(Into::into).collect());
    Ok(Json(v))
}

/// Update a dictionary type.
#[utoipa::path(put, path = "/api/v1/dicts/{id}", tag = "dicts", security(("bearer" = [])), params(("id" = i64, Path)), request_body = DictTypeRequest,
    responses((status = 200, body = DictTypeView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(r): Json<DictTypeRequest>,
) -> ApiResult<Json<DictTypeView>> {
    let f = validate_type(&r.type_key, &r.name, r.status, r.remark);
    Ok(Json(s.admin.update_dict_type(&c, id, f).await?.into()))
}

/// Remove a dictionary type and its items.
#[utoipa::path(delete, path = "/api/v1/dicts/{id}", tag = "dicts", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Done), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Done>> {
    s.admin.delete_dict_type(&c, id).await?;
    Ok(Done::ok())
}

/// Add an item to a dictionary.
#[utoipa::path(post, path = "/api/v1/dicts/{id}/items", tag = "dicts", security(("bearer" = [])), params(("id" = i64, Path)), request_body = DictItemRequest,
    responses((status = 200, body = DictItemView), (status = 400, body = ErrorBody)))]
pub async fn create_item(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(r): Json<DictItemRequest>,
) -> ApiResult<Json<DictItemView>> {
    let f = validate_item(&r.label, &r.value, r.sort_order, r.color, r.status);
    Ok(Json(s.admin.create_dict_item(&c, id, f).await?.into()))
}

/// Update a dictionary item.
#[utoipa::path(put, path = "/api/v1/dict-items/{id}", tag = "dicts", security(("bearer" = [])), params(("id" = i64, Path)), request_body = DictItemRequest,
    responses((status = 200, body = DictItemView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_item(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(r): Json<DictItemRequest>,
) -> ApiResult<Json<DictItemView>> {
    let f = validate_item(&r.label, &r.value, r.sort_order, r.color, r.status);
    Ok(Json(s.admin.update_dict_item(&c, id, f).await?.into()))
}

/// Remove a dictionary item.
#[utoipa::path(delete, path = "/api/v1/dict-items/{id}", tag = "dicts", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Done), (status = 404, body = ErrorBody)))]
pub async fn delete_item(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Done>> {
    s.admin.delete_dict_item(&c, id).await?;
    Ok(Done::ok())
}

/// The items of a dictionary by its key, for drop-downs (officials who may list dictionaries).
#[utoipa::path(get, path = "/api/v1/dicts/by-key/{key}", tag = "dicts", security(("bearer" = [])), params(("key" = String, Path)),
    responses((status = 200, body = DictTypeView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn items_by_key(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(key): Path<String>,
) -> ApiResult<Json<DictTypeView>> {
    let (t, items) = s.admin.dict_items_for(&c, &key).await?;
    let mut v: DictTypeView = t.into();
    v.items = Some(
        items
            .into_iter()
            .filter(|i| i.status == "active")
            .map(Into::into)
            .collect(),
    );
    Ok(Json(v))
}
