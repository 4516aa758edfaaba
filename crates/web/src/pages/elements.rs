//! The data-element registry (数据元目录) and the fact definitions as officials meet them: the
//! elements with their code tables, Excel export and import for the bureau; the facts checks read,
//! each editable as a new version.

use super::{CheckedForm, Flash, PageCaller, after, back, base, csrf_refused, page, render};
use crate::AppState;
use crate::api::departments::read_upload;
use crate::extract::{Path, Query};
use axum::extract::{Multipart, State};
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use shuju_admin::perm;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(elements_page))
        .routes(routes!(import))
        .routes(routes!(facts_page))
        .routes(routes!(fact_save))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FlashQuery {
    flash: Option<String>,
}

/// The data elements.
#[utoipa::path(get, path = "/elements", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn elements_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<FlashQuery>,
) -> Response {
    let r = async {
        Ok(context! {
            elements => s.catalog.list_elements(&pc.caller).await?,
            can_edit => pc.caller.can(perm::ELEMENT_EDIT),
            labels => super::catalog::labels(),
            report => None::<shuju_catalog::elements::ElementImport>,
            ..base(&pc, "elements", &Flash::take(&pc, q.flash.as_deref()))
        })
    }
    .await;
    page("elements.html", r)
}

/// Import elements from Excel; the page shows what was saved and each bad row.
#[utoipa::path(post, path = "/elements/import", tag = "pages", responses((status = 200, description = "HTML page with the import report", content_type = "text/html")))]
pub async fn import(State(s): State<AppState>, pc: PageCaller, m: Multipart) -> Response {
    let up = match read_upload(m).await {
        Ok(v) => v,
        Err(e) => return back(&pc, "/elements", None, Some(&e.0.message)),
    };
    if !up.csrf_ok(&pc.caller) {
        return csrf_refused();
    }
    let r = async {
        let report = s.catalog.import_elements(&pc.caller, &up.file).await?;
        Ok::<_, shuju_types::Error>(context! {
            elements => s.catalog.list_elements(&pc.caller).await?,
            can_edit => pc.caller.can(perm::ELEMENT_EDIT),
            labels => super::catalog::labels(),
            report => report,
            ..base(&pc, "elements", &Flash::default())
        })
    }
    .await;
    match r {
        Ok(ctx) => render("elements.html", ctx),
        Err(e) => back(&pc, "/elements", None, Some(&e.message)),
    }
}

/// The facts checks read, each with its definition.
#[utoipa::path(get, path = "/facts", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn facts_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<FlashQuery>,
) -> Response {
    let r = async {
        let facts: Vec<_> = s
            .persons
            .facts(&pc.caller)
            .await?
            .into_iter()
            .map(|d| {
                let mut def = d.clone();
                def.version = 0;
                let json = serde_json::to_string_pretty(&def).unwrap_or_default();
                context! { fact => d, json => json }
            })
            .collect();
        Ok(context! {
            facts => facts,
            can_edit => pc.caller.can(perm::IDENTITY_RULES),
            ..base(&pc, "facts", &Flash::take(&pc, q.flash.as_deref()))
        })
    }
    .await;
    page("facts.html", r)
}

/// Save an edited fact definition as a new version.
#[utoipa::path(post, path = "/facts/{name}", tag = "pages", params(("name" = String, Path)), responses((status = 303, description = "redirect")))]
pub async fn fact_save(
    State(s): State<AppState>,
    Path(name): Path<String>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let to = "/facts";
    let saved = async {
        let def: shuju_identity::facts::FactDef = serde_json::from_str(&f.str("definition"))
            .map_err(|e| {
                shuju_types::Error::invalid("definition", format!("not a fact definition: {e}"))
            })?;
        if def.name != name {
            return Err(shuju_types::Error::invalid(
                "name",
                "the definition's name is the fact's",
            ));
        }
        s.persons
            .save_fact(&pc.caller, def, &s.catalog.element_ids().await?)
            .await
    }
    .await;
    after(&pc, saved, to, "ok_saved", to)
}
