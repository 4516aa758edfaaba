//! The operation log and login log pages.

use super::{PageCaller, base, page_error, render};
use crate::AppState;
use crate::api::Paged;
use crate::api::audit::{AuditView, LoginView};
use crate::extract::Query;
use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use shuju_admin::journal::{AuditFilter, LoginFilter};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(operlog))
        .routes(routes!(logininfor))
}

#[derive(Deserialize, Serialize, Default)]
#[serde(default)]
pub struct LogQuery {
    actor: Option<String>,
    username: Option<String>,
    action: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u32>,
    size: Option<u32>,
}

impl LogQuery {
    fn pager_base(&self, path: &str) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("actor", &self.actor),
            ("username", &self.username),
            ("action", &self.action),
            ("outcome", &self.outcome),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                s.append_pair(k, v);
            }
        }
        format!("{path}?{}&", s.finish())
    }
}

async fn options(
    s: &AppState,
    key: &str,
) -> (
    Vec<BTreeMap<&'static str, String>>,
    BTreeMap<String, String>,
) {
    let items = s
        .admin
        .dict_items_by_key(key)
        .await
        .map(|(_, i)| i)
        .unwrap_or_default();
    let opts = items
        .iter()
        .map(|i| BTreeMap::from([("label", i.label.clone()), ("value", i.value.clone())]))
        .collect();
    let labels = items.into_iter().map(|i| (i.value, i.label)).collect();
    (opts, labels)
}

/// The operation log: searchable, newest first.
#[utoipa::path(get, path = "/monitor/operlog", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn operlog(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<LogQuery>,
) -> Response {
    let f = AuditFilter {
        actor: q.actor.clone(),
        action: q.action.clone(),
        outcome: q.outcome.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        ..Default::default()
    };
    match s
        .admin
        .audit_log(&pc.caller, f, shuju_store::Page::new(q.page, q.size))
        .await
    {
        Ok(p) => {
            let (outcomes, outcome_labels) = options(&s, "sys_oper_outcome").await;
            render(
                "operlog.html",
                context! {
                    page => Paged::map(p, AuditView::from), q => &q, outcomes => outcomes, outcome_labels => outcome_labels,
                    pager_base => q.pager_base("/monitor/operlog"),
                    ..base(&pc, "operlog", &Default::default())
                },
            )
        }
        Err(e) => page_error(e),
    }
}

/// The login log.
#[utoipa::path(get, path = "/monitor/logininfor", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn logininfor(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<LogQuery>,
) -> Response {
    let f = LoginFilter {
        username: q.username.clone(),
        outcome: q.outcome.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
    };
    match s
        .admin
        .login_log(&pc.caller, &f, shuju_store::Page::new(q.page, q.size))
        .await
    {
        Ok(p) => {
            let (outcomes, outcome_labels) = options(&s, "sys_login_outcome").await;
            render(
                "logininfor.html",
                context! {
                    page => Paged::map(p, LoginView::from), q => &q, outcomes => outcomes, outcome_labels => outcome_labels,
                    pager_base => q.pager_base("/monitor/logininfor"),
                    ..base(&pc, "logininfor", &Default::default())
                },
            )
        }
        Err(e) => page_error(e),
    }
}
