//! `/api/v1`: thin handlers — typed extractor → one call into `shuju_admin` → a view type.

pub mod audit;
pub mod auth;
pub mod catalog;
pub mod ckan;
pub mod departments;
pub mod dicts;
pub mod elements;
pub mod exchange;
pub mod lake;
pub mod licenses;
pub mod persons;
pub mod projects;
pub mod roles;
pub mod service;
pub mod system;
pub mod tokens;
pub mod users;

use crate::{AppState, WebConfig};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;

pub fn routes(cfg: &WebConfig) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::routes())
        .merge(departments::routes(cfg))
        .merge(catalog::routes(cfg))
        .merge(ckan::routes())
        .merge(licenses::routes())
        .merge(lake::routes(cfg))
        .merge(elements::routes())
        .merge(persons::routes())
        .merge(exchange::routes())
        .merge(projects::routes())
        .merge(users::routes())
        .merge(roles::routes())
        .merge(dicts::routes())
        .merge(tokens::routes())
        .merge(audit::routes())
        .merge(service::routes())
        .merge(system::routes())
}

/// Paging parameters of every list.
#[derive(Clone, Copy, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Rows per page (default 20, at most 500).
    pub size: Option<u32>,
}

impl PageParams {
    pub fn page(&self) -> shuju_store::Page {
        shuju_store::Page::new(self.page, self.size)
    }
}

/// One page of a list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Paged<T> {
    pub total: i64,
    pub page: u32,
    pub size: u32,
    pub items: Vec<T>,
}

impl<T> Paged<T> {
    pub fn map<S, F: FnMut(S) -> T>(p: shuju_store::Paged<S>, f: F) -> Self {
        Paged {
            total: p.total,
            page: p.page,
            size: p.size,
            items: p.items.into_iter().map(f).collect(),
        }
    }
}

/// The answer of a delete or another action with nothing to return.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Done {
    pub ok: bool,
}

impl Done {
    pub fn ok() -> crate::extract::Json<Done> {
        crate::extract::Json(Done { ok: true })
    }
}
