//! Faces of the published catalog for other tools: a CKAN-compatible read API (`package_search`,
//! `package_show`, `organization_list`, `status_show`) so CKAN clients and harvesters work
//! unchanged, and the DCAT-AP 3 export. Only published metadata is served.
//!
//! Who reads what ([`Audience`]): an official who may list the catalog reads every published
//! entry; anyone else — an account without that permission, or an anonymous caller where the
//! `open_data` setting allows one (off by default) — reads only the open-data catalog (开放目录):
//! entries whose opening attribute is 无条件开放.
//!
//! CKAN clients expect CKAN's envelope, `{help, success, result}` or `{success: false, error}`, so
//! this face answers in it (with our error code and request id inside the error).

use crate::AppState;
use crate::error::{ApiError, status_of};
use crate::extract::MaybeAuth;
use axum::extract::{Path as AxPath, Query as AxQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use shuju_admin::{Caller, perm};
use shuju_catalog::EntryView;
use shuju_catalog::model::OpeningKind;
use shuju_catalog::search::SearchQuery;
use shuju_types::{Error, ErrorCode, Result};
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(action_get, action_post))
        .routes(routes!(unversioned_get, unversioned_post))
}

/// CKAN's response envelope (the CKAN 2.10 action API): `success`, and the `result` or the `error`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CkanEnvelope {
    pub help: String,
    pub success: bool,
    /// The action's result: a package, a list, a count, … (on success).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<CkanError>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CkanError {
    /// `Not Found Error`, `Authorization Error` or `Validation Error`.
    #[serde(rename = "__type")]
    pub kind: String,
    pub message: String,
    pub code: String,
}

const ACTIONS: [&str; 17] = [
    "package_search",
    "package_show",
    "package_list",
    "current_package_list_with_resources",
    "package_autocomplete",
    "resource_show",
    "organization_list",
    "organization_show",
    "organization_list_for_user",
    "group_list",
    "group_show",
    "tag_list",
    "tag_show",
    "license_list",
    "status_show",
    "site_read",
    "help_show",
];

/// A CKAN action by GET, parameters in the query string.
#[utoipa::path(get, path = "/api/3/action/{action}", tag = "ckan",
    params(("action" = String, Path, description = "a CKAN 2.10 action: package_search, package_show, package_list, current_package_list_with_resources, package_autocomplete, resource_show, organization_list, organization_show, organization_list_for_user, group_list, group_show, tag_list, tag_show, license_list, status_show, site_read, help_show"),
           ("q" = Option<String>, Query), ("fq" = Option<String>, Query, description = "e.g. organization:dept-12 res_format:database"),
           ("rows" = Option<u32>, Query), ("start" = Option<u32>, Query), ("facet.field" = Option<String>, Query, description = "JSON list, e.g. [\"organization\",\"res_format\"]"),
           ("id" = Option<String>, Query, description = "package_show: the package id or name"), ("all_fields" = Option<bool>, Query)),
    responses((status = 200, description = "CKAN envelope with the result", body = CkanEnvelope), (status = 400, description = "CKAN error envelope", body = CkanEnvelope), (status = 401, description = "CKAN error envelope", body = CkanEnvelope), (status = 403, description = "CKAN error envelope", body = CkanEnvelope), (status = 404, description = "CKAN error envelope", body = CkanEnvelope)))]
pub async fn action_get(
    State(s): State<AppState>,
    who: MaybeAuth,
    AxPath(action): AxPath<String>,
    AxQuery(q): AxQuery<HashMap<String, String>>,
) -> Response {
    let params: Map<String, Value> = q.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    run(&s, who, &action, params).await
}

/// A CKAN action by POST, parameters in a JSON body (as `ckanapi` sends them).
#[utoipa::path(post, path = "/api/3/action/{action}", tag = "ckan",
    params(("action" = String, Path, description = "a CKAN 2.10 action: package_search, package_show, package_list, current_package_list_with_resources, package_autocomplete, resource_show, organization_list, organization_show, organization_list_for_user, group_list, group_show, tag_list, tag_show, license_list, status_show, site_read, help_show")),
    request_body(content = Object, description = "the action's parameters"),
    responses((status = 200, description = "CKAN envelope with the result", body = CkanEnvelope), (status = 400, description = "CKAN error envelope", body = CkanEnvelope), (status = 401, description = "CKAN error envelope", body = CkanEnvelope), (status = 403, description = "CKAN error envelope", body = CkanEnvelope), (status = 404, description = "CKAN error envelope", body = CkanEnvelope)))]
pub async fn action_post(
    State(s): State<AppState>,
    who: MaybeAuth,
    AxPath(action): AxPath<String>,
    body: axum::body::Bytes,
) -> Response {
    let params = if body.is_empty() {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return ckan_error(
                    &action,
                    Error::bad_request("the body must be a JSON object of parameters"),
                );
            }
            Err(_) => match serde_urlencoded_pairs(&body) {
                Some(m) => m,
                None => return ckan_error(&action, Error::bad_request("the body is not JSON")),
            },
        }
    };
    run(&s, who, &action, params).await
}

/// The same actions without the API version, as `ckanapi` calls them.
#[utoipa::path(get, path = "/api/action/{action}", tag = "ckan",
    params(("action" = String, Path, description = "a CKAN 2.10 action: package_search, package_show, package_list, current_package_list_with_resources, package_autocomplete, resource_show, organization_list, organization_show, organization_list_for_user, group_list, group_show, tag_list, tag_show, license_list, status_show, site_read, help_show")),
    responses((status = 200, description = "CKAN envelope with the result", body = CkanEnvelope), (status = 400, description = "CKAN error envelope", body = CkanEnvelope), (status = 401, description = "CKAN error envelope", body = CkanEnvelope), (status = 403, description = "CKAN error envelope", body = CkanEnvelope), (status = 404, description = "CKAN error envelope", body = CkanEnvelope)))]
pub async fn unversioned_get(
    s: State<AppState>,
    who: MaybeAuth,
    action: AxPath<String>,
    q: AxQuery<HashMap<String, String>>,
) -> Response {
    action_get(s, who, action, q).await
}

/// The same actions without the API version, by POST.
#[utoipa::path(post, path = "/api/action/{action}", tag = "ckan",
    params(("action" = String, Path, description = "a CKAN 2.10 action: package_search, package_show, package_list, current_package_list_with_resources, package_autocomplete, resource_show, organization_list, organization_show, organization_list_for_user, group_list, group_show, tag_list, tag_show, license_list, status_show, site_read, help_show")),
    request_body(content = Object, description = "the action's parameters"),
    responses((status = 200, description = "CKAN envelope with the result", body = CkanEnvelope), (status = 400, description = "CKAN error envelope", body = CkanEnvelope), (status = 401, description = "CKAN error envelope", body = CkanEnvelope), (status = 403, description = "CKAN error envelope", body = CkanEnvelope), (status = 404, description = "CKAN error envelope", body = CkanEnvelope)))]
pub async fn unversioned_post(
    s: State<AppState>,
    who: MaybeAuth,
    action: AxPath<String>,
    body: axum::body::Bytes,
) -> Response {
    action_post(s, who, action, body).await
}

fn serde_urlencoded_pairs(body: &[u8]) -> Option<Map<String, Value>> {
    let s = std::str::from_utf8(body).ok()?;
    if !s.contains('=') {
        return None;
    }
    Some(
        url::form_urlencoded::parse(s.as_bytes())
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect(),
    )
}

/// Which part of the published catalog a caller of the open faces reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Officials who may list the catalog: every published entry.
    Officials,
    /// The public: only entries whose opening attribute is 无条件开放.
    Public,
}

impl Audience {
    /// The audience of a caller, or why it may not read at all (no sign-in where the
    /// `open_data` setting is off).
    pub fn of(s: &AppState, who: &Option<Caller>) -> Result<Audience> {
        match who {
            Some(c) if c.can(perm::CATALOG_LIST) => Ok(Audience::Officials),
            Some(_) => Ok(Audience::Public),
            None if s.cfg.open_data => Ok(Audience::Public),
            None => Err(Error::unauthenticated(
                "sign in first: this server publishes its catalog to signed-in callers only",
            )),
        }
    }

    pub fn sees(self, e: &EntryView) -> bool {
        self == Audience::Officials || e.entry.opening == OpeningKind::Open
    }
}

async fn run(
    s: &AppState,
    MaybeAuth(who): MaybeAuth,
    action: &str,
    p: Map<String, Value>,
) -> Response {
    let audience = match Audience::of(s, &who) {
        Ok(a) => a,
        Err(e) => return ckan_error(action, e),
    };
    let r = match action {
        "package_search" => package_search(s, audience, &p).await,
        "package_show" => package_show(s, audience, &p).await,
        "organization_list" => organization_list(s, audience, &p).await,
        "package_list" => package_list(s, audience, &p).await,
        "current_package_list_with_resources" => current_packages(s, audience, &p).await,
        "package_autocomplete" => package_autocomplete(s, audience, &p).await,
        "resource_show" => resource_show(s, audience, &p).await,
        "organization_show" => organization_show(s, audience, &p).await,
        "organization_list_for_user" => organization_list(s, audience, &p).await,
        "group_list" => Ok(group_list(&p)),
        "group_show" => group_show(s, audience, &p).await,
        "tag_list" => tag_list(s, audience).await,
        "tag_show" => tag_show(s, audience, &p).await,
        "license_list" => Ok(license_list()),
        "site_read" => Ok(Value::Bool(true)),
        "help_show" => Ok(Value::String(format!(
            "CKAN 2.10 action {}: see https://docs.ckan.org/en/2.10/api/",
            param_str(&p, "name").unwrap_or_default()
        ))),
        "status_show" => Ok(
            json!({"ckan_version": "2.10.0", "site_title": "Shuju 数聚", "site_url": "", "extensions": ["shuju"]}),
        ),
        _ => Err(Error::not_found(format!(
            "action '{action}' (this server answers {})",
            ACTIONS.join(", ")
        ))),
    };
    match r {
        Ok(result) => axum::Json(CkanEnvelope {
            help: format!("/api/3/action/help_show?name={action}"),
            success: true,
            result: Some(result),
            error: None,
        })
        .into_response(),
        Err(e) => ckan_error(action, e),
    }
}

fn ckan_error(action: &str, e: Error) -> Response {
    if e.code == ErrorCode::Internal {
        return ApiError(e).into_response();
    }
    let kind = match e.code {
        ErrorCode::NotFound => "Not Found Error",
        ErrorCode::PermissionDenied | ErrorCode::Unauthenticated => "Authorization Error",
        _ => "Validation Error",
    };
    let status = status_of(e.code);
    (
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            StatusCode::BAD_REQUEST
        } else {
            status
        },
        axum::Json(CkanEnvelope {
            help: format!("/api/3/action/help_show?name={action}"),
            success: false,
            result: None,
            error: Some(CkanError {
                kind: kind.to_owned(),
                message: e.message,
                code: e.code.as_str().to_owned(),
            }),
        }),
    )
        .into_response()
}

fn param_str(p: &Map<String, Value>, k: &str) -> Option<String> {
    match p.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        v => Some(v.to_string()),
    }
}

fn param_usize(p: &Map<String, Value>, k: &str, default: usize, max: usize) -> Result<usize> {
    match param_str(p, k) {
        None => Ok(default),
        Some(s) if s.trim().is_empty() => Ok(default),
        Some(s) => s
            .trim()
            .parse::<usize>()
            .map(|v| v.min(max))
            .map_err(|_| Error::invalid(k, "must be a whole number")),
    }
}

fn slug(code: &str) -> String {
    code.replace('/', "-")
}

/// Our facet dimension for a CKAN facet field name.
fn dimension(field: &str) -> Option<&'static str> {
    match field {
        "organization" | "owner_org" | "provider" => Some("provider"),
        "res_format" | "format" => Some("format"),
        "library" | "groups" => Some("library"),
        "sharing" | "license_id" => Some("sharing"),
        "cycle" | "frequency" => Some("cycle"),
        _ => None,
    }
}

fn org_name(dept_id: i64) -> String {
    format!("dept-{dept_id}")
}

/// Parse `fq`: space-separated `field:value` terms (values may be quoted).
fn parse_fq(fq: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = fq.trim();
    while !rest.is_empty() {
        let (field, after) = rest
            .split_once(':')
            .ok_or_else(|| Error::invalid("fq", "must be field:value terms"))?;
        let field = field.trim().trim_start_matches('+');
        let after = after.trim_start();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q
                .find('"')
                .ok_or_else(|| Error::invalid("fq", "unclosed quote"))?;
            (&q[..end], &q[end + 1..])
        } else {
            match after.find(char::is_whitespace) {
                Some(i) => (&after[..i], &after[i..]),
                None => (after, ""),
            }
        };
        let dim = dimension(field)
            .ok_or_else(|| Error::invalid("fq", format!("cannot filter on '{field}'")))?;
        let value = if dim == "provider" {
            value.trim_start_matches("dept-").to_owned()
        } else {
            value.to_owned()
        };
        out.push((dim.to_owned(), value));
        rest = next.trim();
    }
    Ok(out)
}

fn package(e: &EntryView) -> Value {
    let r = &e.row;
    let x = &e.entry;
    let resources: Vec<Value> = x
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            json!({
                "id": format!("{}-{}", r.id, i + 1),
                "package_id": r.id.to_string(),
                "name": it.name,
                "description": format!("{} · {}{}", it.column, it.data_type.label_zh(), it.length.map(|l| format!("({l})")).unwrap_or_default()),
                // The same value the res_format facet counts and filters by.
                "format": r.format,
                "shuju_format_detail": x.format.detail,
                "url": "",
                "position": i,
                "shuju_column": it.column,
                "shuju_data_type": it.data_type.key(),
                "shuju_sharing": it.sharing.key(),
                "shuju_sensitivity": it.sensitivity.key(),
                "shuju_code_standard": it.code_standard,
            })
        })
        .collect();
    let tags: Vec<Value> = x
        .classification
        .iter()
        .map(|c| json!({"name": c, "display_name": c}))
        .collect();
    let extras = [
        ("resource_code", x.code.clone()),
        ("sharing", x.sharing.kind.key().to_owned()),
        (
            "sharing_condition",
            x.sharing.condition.clone().unwrap_or_default(),
        ),
        (
            "sharing_methods",
            x.sharing
                .methods
                .iter()
                .map(|m| m.key())
                .collect::<Vec<_>>()
                .join(","),
        ),
        ("opening", x.opening.key().to_owned()),
        ("update_cycle", x.update_cycle.key().to_owned()),
        ("library", x.library.key().to_owned()),
        ("resource_attribute", x.attribute.label_zh().to_owned()),
        ("provider_code", x.provider_code.clone()),
        ("publish_date", x.publish_date.clone().unwrap_or_default()),
        ("related", x.related.join(",")),
    ];
    json!({
        "id": r.id.to_string(),
        "name": slug(&x.code),
        "title": x.name,
        "notes": x.summary,
        "type": "dataset",
        "state": "active",
        "private": false,
        "version": r.version.to_string(),
        "metadata_created": r.created_at,
        "metadata_modified": r.updated_at,
        "owner_org": org_name(x.provider_dept_id),
        "organization": {"id": org_name(x.provider_dept_id), "name": org_name(x.provider_dept_id), "title": x.provider_name, "type": "organization", "is_organization": true, "state": "active"},
        "resources": resources,
        "num_resources": x.items.len(),
        "tags": tags,
        "num_tags": x.classification.len(),
        "groups": [],
        "extras": extras.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
    })
}

async fn package_search(s: &AppState, audience: Audience, p: &Map<String, Value>) -> Result<Value> {
    let rows = param_usize(p, "rows", 10, 1000)?;
    let start = param_usize(p, "start", 0, usize::MAX)?;
    // `name:…` and `title:…` search the package's name (its code) and title; the index holds both.
    let q = param_str(p, "q")
        .filter(|q| q.trim() != "*:*" && !q.trim().is_empty())
        .map(|q| match q.trim().split_once(':') {
            Some(("name", v)) => v.trim().replacen('-', "/", 1),
            Some(("title", v)) => v.trim().to_owned(),
            _ => q,
        });
    let facets = match param_str(p, "fq") {
        Some(fq) => parse_fq(&fq)?,
        None => vec![],
    };
    let facet_fields: Vec<String> = match p.get("facet.field") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        Some(Value::String(s)) if !s.trim().is_empty() => serde_json::from_str::<Vec<String>>(s)
            .map_err(|_| Error::invalid("facet.field", "must be a JSON list of field names"))?,
        _ => vec![],
    };
    for f in &facet_fields {
        if dimension(f).is_none() {
            return Err(Error::invalid(
                "facet.field",
                format!("cannot facet on '{f}'"),
            ));
        }
    }
    let mut facets = facets;
    if audience == Audience::Public {
        facets.push(("opening".into(), OpeningKind::Open.key().into()));
    }
    let query = SearchQuery {
        text: q,
        published_only: true,
        facets,
        offset: start,
        // rows=0 asks for the count and facets only.
        limit: rows.max(1),
        ..Default::default()
    };
    let (hits, mut views) = s.catalog.search_unchecked(&query).await?;
    views.truncate(rows);
    let depts: HashMap<i64, String> = s
        .admin
        .dept_tree()
        .await?
        .depts
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let mut facet_out = Map::new();
    let mut search_facets = Map::new();
    for f in &facet_fields {
        let dim = dimension(f).unwrap_or("provider");
        let values = hits.facets.get(dim).cloned().unwrap_or_default();
        let key = |v: &str| {
            if dim == "provider" {
                format!("dept-{v}")
            } else {
                v.to_owned()
            }
        };
        let label = |v: &str| {
            if dim == "provider" {
                v.parse::<i64>()
                    .ok()
                    .and_then(|id| depts.get(&id).cloned())
                    .unwrap_or_else(|| v.to_owned())
            } else {
                v.to_owned()
            }
        };
        facet_out.insert(
            f.clone(),
            Value::Object(values.iter().map(|(v, n)| (key(v), json!(n))).collect()),
        );
        search_facets.insert(
            f.clone(),
            json!({"title": f, "items": values.iter().map(|(v, n)| json!({"name": key(v), "display_name": label(v), "count": n})).collect::<Vec<_>>()}),
        );
    }
    Ok(json!({
        "count": hits.total,
        "sort": "score desc",
        "results": views.iter().map(package).collect::<Vec<_>>(),
        "facets": facet_out,
        "search_facets": search_facets,
    }))
}

async fn package_show(s: &AppState, audience: Audience, p: &Map<String, Value>) -> Result<Value> {
    let id = param_str(p, "id")
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| Error::invalid("id", "is required"))?;
    // By id, by CKAN name (the code with '-' for '/'), or by code.
    let key = if id.chars().all(|c| c.is_ascii_digit()) {
        id.clone()
    } else {
        id.replacen('-', "/", 1)
    };
    let e = match s.catalog.published(&key).await {
        Ok(e) => e,
        Err(_) => s.catalog.published(&id).await?,
    };
    if !audience.sees(&e) {
        return Err(Error::not_found("catalog entry"));
    }
    Ok(package(&e))
}

async fn organization_list(
    s: &AppState,
    audience: Audience,
    p: &Map<String, Value>,
) -> Result<Value> {
    let all_fields = matches!(
        param_str(p, "all_fields").as_deref(),
        Some("true" | "True" | "1")
    );
    let (limit, offset) = limit_offset(p, usize::MAX)?;
    let tree = s.admin.dept_tree().await?;
    let mut ordered = tree.ordered();
    match param_str(p, "sort").as_deref().map(str::trim) {
        None | Some("") => {}
        Some("name asc" | "name") => ordered.sort_by_key(|(_, d)| org_name(d.id)),
        Some("name desc") => ordered.sort_by_key(|(_, d)| std::cmp::Reverse(org_name(d.id))),
        Some("title asc" | "title") => ordered.sort_by(|a, b| a.1.name.cmp(&b.1.name)),
        Some("title desc") => ordered.sort_by(|a, b| b.1.name.cmp(&a.1.name)),
        Some(other) => {
            return Err(Error::invalid(
                "sort",
                format!("cannot sort organizations by '{other}' (name or title, asc or desc)"),
            ));
        }
    }
    let ordered: Vec<_> = ordered.into_iter().skip(offset).take(limit).collect();
    if !all_fields {
        return Ok(Value::Array(
            ordered
                .iter()
                .map(|(_, d)| Value::String(org_name(d.id)))
                .collect(),
        ));
    }
    // Each organization's packages, as the audience sees them (CKAN's include_dataset_count).
    let mut facets = vec![];
    if audience == Audience::Public {
        facets.push(("opening".into(), OpeningKind::Open.key().into()));
    }
    let query = SearchQuery {
        published_only: true,
        facets,
        limit: 1,
        ..Default::default()
    };
    let (hits, _) = s.catalog.search_unchecked(&query).await?;
    let counts: HashMap<String, u64> = hits
        .facets
        .get("provider")
        .map(|v| v.iter().map(|(k, n)| (k.clone(), *n)).collect())
        .unwrap_or_default();
    let with_count = !matches!(
        param_str(p, "include_dataset_count").as_deref(),
        Some("false" | "False" | "0")
    );
    Ok(Value::Array(
        ordered
            .iter()
            .map(|(depth, d)| {
                let n = counts.get(&d.id.to_string()).copied().unwrap_or(0);
                json!({
                    "package_count": with_count.then_some(n),
                    "id": org_name(d.id), "name": org_name(d.id), "title": d.name, "display_name": d.name,
                    "type": "organization", "is_organization": true, "state": "active",
                    "description": format!("行政区划 {}", d.division_code),
                    "groups": d.parent_id.map(|p| vec![json!({"name": org_name(p), "capacity": "public"})]).unwrap_or_default(),
                    "shuju_depth": depth, "shuju_uscc": d.uscc,
                })
            })
            .collect(),
    ))
}

/// The published catalog as DCAT-AP 3, JSON-LD: what `audience` may read.
pub async fn dcat_document(
    s: &AppState,
    audience: Audience,
) -> Result<crate::api::catalog::DcatCatalog> {
    let mut datasets = Vec::new();
    let mut page = 1;
    loop {
        let p = s
            .catalog
            .list_published(shuju_store::Page {
                page,
                size: shuju_store::Page::MAX_SIZE,
            })
            .await?;
        let n = p.items.len();
        for e in p.items.iter().filter(|e| audience.sees(e)) {
            let x = &e.entry;
            // Access rights say who outside government may have the data: the opening
            // attribute (开放), not the sharing one (共享, between departments).
            let access = match x.opening {
                OpeningKind::Open => "PUBLIC",
                OpeningKind::Conditional => "RESTRICTED",
                OpeningKind::NotOpen => "NON_PUBLIC",
            };
            datasets.push(json!({
                "@id": format!("urn:shuju:catalog:{}", x.code),
                "@type": "dcat:Dataset",
                "dct:identifier": x.code,
                "dct:title": {"@value": x.name, "@language": "zh"},
                "dct:description": {"@value": x.summary, "@language": "zh"},
                "dct:publisher": {
                    "@id": format!("urn:shuju:agent:{}", x.provider_code),
                    "@type": "foaf:Agent",
                    "foaf:name": {"@value": x.provider_name, "@language": "zh"},
                    "dct:identifier": x.provider_code,
                },
                "dcat:keyword": x.classification,
                "dcat:theme": {
                    "@id": format!("urn:shuju:library:{}", x.library.key()),
                    "@type": "skos:Concept",
                    "skos:prefLabel": {"@value": x.library.label_zh(), "@language": "zh"},
                    "skos:inScheme": {"@id": "urn:shuju:library"},
                },
                "dct:accrualPeriodicity": {
                    "@id": format!("http://publications.europa.eu/resource/authority/frequency/{}", x.update_cycle.eu_frequency()),
                    "@type": "dct:Frequency",
                },
                "dct:accessRights": {
                    "@id": format!("http://publications.europa.eu/resource/authority/access-right/{access}"),
                    "@type": "dct:RightsStatement",
                },
                "dct:issued": x.publish_date.as_ref().map(|d| json!({"@value": d, "@type": "xsd:date"})),
                "dct:modified": {"@value": e.row.updated_at, "@type": "xsd:dateTime"},
                "dct:relation": x.related.iter().map(|r| json!({"@id": format!("urn:shuju:catalog:{r}")})).collect::<Vec<_>>(),
                "dcat:distribution": [{
                    "@type": "dcat:Distribution",
                    "dct:format": {
                        "@type": "dct:MediaTypeOrExtent",
                        "rdfs:label": format!("{} {}", x.format.category.label_zh(), x.format.detail).trim(),
                    },
                    "dct:title": {"@value": x.format.category.label_zh(), "@language": "zh"},
                    "dcat:accessURL": {"@id": format!("urn:shuju:catalog:{}:{}", x.code, x.sharing.methods.first().map(|m| m.key()).unwrap_or("none"))},
                }],
            }));
        }
        if n < shuju_store::Page::MAX_SIZE as usize {
            break;
        }
        page += 1;
    }
    Ok(crate::api::catalog::DcatCatalog {
        context: json!({
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "skos": "http://www.w3.org/2004/02/skos/core#",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
        }),
        id: "urn:shuju:catalog".into(),
        kind: "dcat:Catalog".into(),
        title: json!({"@value": "聊城市政务信息资源目录", "@language": "zh"}),
        description: json!([
            {"@value": "本市已发布的政务信息资源目录（DCAT-AP 3）", "@language": "zh"},
            {"@value": "Published government information resources of the city (DCAT-AP 3)", "@language": "en"},
        ]),
        publisher: json!({
            "@id": "urn:shuju:agent:bureau",
            "@type": "foaf:Agent",
            "foaf:name": {"@value": "聊城市大数据局", "@language": "zh"},
        }),
        theme_taxonomy: json!({
            "@id": "urn:shuju:library",
            "@type": "skos:ConceptScheme",
            "dct:title": {"@value": "政务信息资源库（基础库、主题库、部门库）", "@language": "zh"},
        }),
        dataset: Value::Array(datasets),
    })
}

/// Every package the audience sees, in the index's order, one page after another.
async fn visible(
    s: &AppState,
    audience: Audience,
    facets: Vec<(String, String)>,
    offset: usize,
    limit: usize,
) -> Result<(usize, Vec<EntryView>)> {
    let mut facets = facets;
    if audience == Audience::Public {
        facets.push(("opening".into(), OpeningKind::Open.key().into()));
    }
    let mut out = Vec::new();
    let mut at = offset;
    // One query at least: a limit of 0 still counts.
    let total = loop {
        let want = limit - out.len();
        let page = want.clamp(1, 1000);
        let query = SearchQuery {
            published_only: true,
            facets: facets.clone(),
            offset: at,
            limit: page,
            ..Default::default()
        };
        let (hits, views) = s.catalog.search_unchecked(&query).await?;
        let n = views.len();
        out.extend(views.into_iter().take(want));
        at += n;
        if n < page || at >= hits.total || out.len() >= limit {
            break hits.total;
        }
    };
    Ok((total, out))
}

fn limit_offset(p: &Map<String, Value>, default: usize) -> Result<(usize, usize)> {
    Ok((
        param_usize(p, "limit", default, usize::MAX)?,
        param_usize(p, "offset", 0, usize::MAX)?,
    ))
}

async fn package_list(s: &AppState, audience: Audience, p: &Map<String, Value>) -> Result<Value> {
    let (limit, offset) = limit_offset(p, usize::MAX)?;
    let (_, views) = visible(s, audience, vec![], offset, limit).await?;
    Ok(Value::Array(
        views
            .iter()
            .map(|e| Value::String(slug(&e.entry.code)))
            .collect(),
    ))
}

async fn current_packages(
    s: &AppState,
    audience: Audience,
    p: &Map<String, Value>,
) -> Result<Value> {
    let (limit, offset) = limit_offset(p, 100)?;
    let (_, views) = visible(s, audience, vec![], offset, limit).await?;
    Ok(Value::Array(views.iter().map(package).collect()))
}

async fn package_autocomplete(
    s: &AppState,
    audience: Audience,
    p: &Map<String, Value>,
) -> Result<Value> {
    let q = param_str(p, "q").unwrap_or_default();
    let limit = param_usize(p, "limit", 10, 100)?;
    if q.trim().is_empty() {
        return Ok(Value::Array(vec![]));
    }
    let mut facets = vec![];
    if audience == Audience::Public {
        facets.push(("opening".into(), OpeningKind::Open.key().into()));
    }
    let query = SearchQuery {
        text: Some(q.clone()),
        published_only: true,
        facets,
        limit,
        ..Default::default()
    };
    let (_, views) = s.catalog.search_unchecked(&query).await?;
    Ok(Value::Array(
        views
            .iter()
            .map(|e| {
                let by_name = e.entry.name.contains(q.trim());
                json!({
                    "name": slug(&e.entry.code),
                    "title": e.entry.name,
                    "match_field": if by_name { "title" } else { "name" },
                    "match_displayed": if by_name { e.entry.name.clone() } else { slug(&e.entry.code) },
                })
            })
            .collect(),
    ))
}

async fn resource_show(s: &AppState, audience: Audience, p: &Map<String, Value>) -> Result<Value> {
    let id = param_str(p, "id").ok_or_else(|| Error::invalid("id", "is required"))?;
    let (entry, n) = id
        .rsplit_once('-')
        .and_then(|(e, n)| Some((e.to_owned(), n.parse::<usize>().ok()?)))
        .ok_or_else(|| Error::not_found("resource"))?;
    let mut q = Map::new();
    q.insert("id".into(), Value::String(entry));
    let pkg = package_show(s, audience, &q).await?;
    pkg["resources"]
        .as_array()
        .and_then(|r| r.get(n.wrapping_sub(1)))
        .cloned()
        .ok_or_else(|| Error::not_found("resource"))
}

async fn organization_show(
    s: &AppState,
    audience: Audience,
    p: &Map<String, Value>,
) -> Result<Value> {
    let id = param_str(p, "id").ok_or_else(|| Error::invalid("id", "is required"))?;
    let tree = s.admin.dept_tree().await?;
    let d = tree
        .depts
        .iter()
        .find(|d| org_name(d.id) == id || d.name == id || d.id.to_string() == id)
        .ok_or_else(|| Error::not_found("organization"))?;
    let provider = vec![("provider".to_owned(), d.id.to_string())];
    let include = !matches!(
        param_str(p, "include_datasets").as_deref(),
        None | Some("false" | "False" | "0")
    );
    let (count, views) = visible(s, audience, provider, 0, if include { 1000 } else { 0 }).await?;
    Ok(json!({
        "id": org_name(d.id), "name": org_name(d.id), "title": d.name, "display_name": d.name,
        "type": "organization", "is_organization": true, "state": "active", "approval_status": "approved",
        "description": format!("行政区划 {}", d.division_code),
        "package_count": count,
        "packages": views.iter().map(package).collect::<Vec<_>>(),
        "users": [], "extras": [], "tags": [],
        "groups": d.parent_id.map(|p| vec![json!({"name": org_name(p), "capacity": "public"})]).unwrap_or_default(),
    }))
}

/// Groups are the catalog's libraries (基础库 · 人口, 主题库, 专题库, 通用业务库, …).
fn groups() -> impl Iterator<Item = (&'static str, &'static str)> {
    shuju_types::Library::ALL
        .into_iter()
        .map(|l| (l.key(), l.label_zh()))
}

fn group_list(p: &Map<String, Value>) -> Value {
    let all = matches!(
        param_str(p, "all_fields").as_deref(),
        Some("true" | "True" | "1")
    );
    Value::Array(
        groups()
            .map(|(k, t)| {
                if all {
                    json!({"id": k, "name": k, "title": t, "display_name": t, "type": "group", "is_organization": false, "state": "active"})
                } else {
                    Value::String(k.to_owned())
                }
            })
            .collect(),
    )
}

async fn group_show(s: &AppState, audience: Audience, p: &Map<String, Value>) -> Result<Value> {
    let id = param_str(p, "id").ok_or_else(|| Error::invalid("id", "is required"))?;
    let (k, t) = groups()
        .find(|(k, t)| *k == id || *t == id)
        .ok_or_else(|| Error::not_found("group"))?;
    let (count, _) = visible(s, audience, vec![("library".into(), k.to_owned())], 0, 0).await?;
    Ok(
        json!({"id": k, "name": k, "title": t, "display_name": t, "type": "group",
              "is_organization": false, "state": "active", "package_count": count, "packages": []}),
    )
}

/// The keywords (classification) of every package the audience sees, with how many carry each.
async fn tag_counts(s: &AppState, audience: Audience) -> Result<Vec<(String, usize)>> {
    let (_, views) = visible(s, audience, vec![], 0, usize::MAX).await?;
    let mut n: std::collections::BTreeMap<String, usize> = Default::default();
    for e in &views {
        for c in &e.entry.classification {
            *n.entry(c.clone()).or_default() += 1;
        }
    }
    Ok(n.into_iter().collect())
}

async fn tag_list(s: &AppState, audience: Audience) -> Result<Value> {
    Ok(Value::Array(
        tag_counts(s, audience)
            .await?
            .into_iter()
            .map(|(t, _)| Value::String(t))
            .collect(),
    ))
}

async fn tag_show(s: &AppState, audience: Audience, p: &Map<String, Value>) -> Result<Value> {
    let id = param_str(p, "id").ok_or_else(|| Error::invalid("id", "is required"))?;
    let (_, n) = tag_counts(s, audience)
        .await?
        .into_iter()
        .find(|(t, _)| *t == id)
        .ok_or_else(|| Error::not_found("tag"))?;
    Ok(json!({"id": id, "name": id, "display_name": id, "vocabulary_id": null, "package_count": n}))
}

/// Licenses are the opening conditions (开放属性).
fn license_list() -> Value {
    Value::Array(
        OpeningKind::ALL
            .into_iter()
            .map(|o| json!({"id": o.key(), "title": o.label_zh(), "status": "active", "url": "",
                            "od_conformance": if o == OpeningKind::Open { "approved" } else { "not reviewed" }}))
            .collect(),
    )
}
