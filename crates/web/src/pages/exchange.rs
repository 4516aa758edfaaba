//! Sharing pages: requests (mine / to check / to answer, with deadline badges), grants, and the
//! IT-project review.

use super::{CheckedForm, Flash, PageCaller, after, base, page};
use crate::AppState;
use crate::api::exchange::{GrantView, RequestView};
use crate::api::projects::ProjectDto;
use crate::extract::{Path, Query};
use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use shuju_admin::perm;
use shuju_exchange::requests::RequestInput;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(requests_page, request_create))
        .routes(routes!(request_action))
        .routes(routes!(projects_page, project_create))
        .routes(routes!(project_review))
        .routes(routes!(data_use_page))
        .routes(routes!(usage_page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DataUseQuery {
    subject: Option<String>,
}

/// Who used my data: for a citizen ID (or a credit code), every gateway call that read the
/// record — which department's system, which items, when, for what purpose.
#[utoipa::path(get, path = "/data-use", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn data_use_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<DataUseQuery>,
) -> Response {
    let subject = q
        .subject
        .as_deref()
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned);
    let (uses, err) = match &subject {
        Some(sub) => match s.gateway.data_use(&pc.caller, sub).await {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(crate::i18n::say(pc.lang, &e))),
        },
        None => (None, None),
    };
    page(
        "data_use.html",
        Ok(context! {
            subject => subject,
            uses => uses.map(|v| v.into_iter().map(|u| context! {
                called_at => u.called_at, consumer_dept => u.consumer_dept, consumer_system => u.consumer_system,
                purpose => u.purpose, entry_name => u.entry_name,
                items => serde_json::from_str::<Vec<String>>(&u.items).unwrap_or_default(),
            }).collect::<Vec<_>>()),
            ..base(&pc, "data_use", &Flash { ok: None, err })
        }),
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UsageQuery {
    days: Option<u32>,
}

/// The gateway's usage and health: calls, rows, errors and latency per resource, grant and
/// consuming department; the top shared resources; each department's sharing rate.
#[utoipa::path(get, path = "/exchange/usage", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn usage_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<UsageQuery>,
) -> Response {
    let days = q.days.unwrap_or(30);
    let h = s.gateway.health(&pc.caller, days).await;
    let stat = |u: &shuju_exchange::gateway::UseStat| {
        context! {
            id => u.id, name => u.name, party => u.party, calls => u.calls, rows => u.rows_out,
            errors => u.errors, consumers => u.consumers, max_ms => u.max_ms,
            error_pct => format!("{:.1}", 100.0 * u.errors as f64 / u.calls.max(1) as f64),
            avg_ms => format!("{:.1}", u.total_ms as f64 / u.calls.max(1) as f64),
        }
    };
    page(
        "usage.html",
        h.map(|h| {
            let pct = |a: i64, b: i64| if b == 0 { "—".to_owned() } else { format!("{:.0}%", 100.0 * a as f64 / b as f64) };
            let top_calls = h.entries.first().map(|e| e.calls).unwrap_or(0).max(1);
            context! {
                days => h.days,
                total_calls => h.grants.iter().map(|g| g.calls).sum::<i64>(),
                total_rows => h.grants.iter().map(|g| g.rows_out).sum::<i64>(),
                total_errors => h.grants.iter().map(|g| g.errors).sum::<i64>(),
                top => h.entries.iter().take(10).map(|e| context! { name => e.name, party => e.party, calls => e.calls, consumers => e.consumers, bar => 100 * e.calls / top_calls }).collect::<Vec<_>>(),
                entries => h.entries.iter().map(stat).collect::<Vec<_>>(),
                grants => h.grants.iter().map(stat).collect::<Vec<_>>(),
                consumers => h.consumers.iter().map(stat).collect::<Vec<_>>(),
                sharing => h.sharing.iter().map(|r| context! {
                    dept => r.dept, catalogued => r.catalogued, shared => r.shared, granted => r.granted, exchanged => r.exchanged,
                    shared_pct => pct(r.shared, r.catalogued), exchanged_pct => pct(r.exchanged, r.catalogued),
                }).collect::<Vec<_>>(),
                ..base(&pc, "usage", &Flash::default())
            }
        }),
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ViewQuery {
    view: Option<String>,
    entry_id: Option<i64>,
    flash: Option<String>,
}

/// Sharing requests and grants.
#[utoipa::path(get, path = "/exchange", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn requests_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<ViewQuery>,
) -> Response {
    let c = &pc.caller;
    let view = q.view.clone().unwrap_or_else(|| "mine".into());
    let r = async {
        let rows = s.exchange.requests(c, &view).await?;
        let grants = s.exchange.grants(c).await?;
        let subscriptions = if c.can(perm::GATEWAY_CALL) {
            s.gateway.subscriptions(c).await?
        } else {
            Vec::new()
        };
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        Ok::<_, shuju_types::Error>(context! {
            view => view,
            today => today,
            requests => rows.into_iter().map(RequestView::from).collect::<Vec<_>>(),
            grants => grants.into_iter().map(GrantView::from).collect::<Vec<_>>(),
            entry_id => q.entry_id,
            subscriptions => subscriptions,
            can => context! { subscribe => c.can(perm::GATEWAY_CALL), request => c.can(perm::EXCHANGE_REQUEST), check => c.can(perm::EXCHANGE_CHECK), answer => c.can(perm::EXCHANGE_ANSWER) },
            ..base(&pc, "exchange", &Flash::take(&pc, q.flash.as_deref()))
        })
    }
    .await;
    page("exchange.html", r)
}

/// Make a request from the form.
#[utoipa::path(post, path = "/exchange", tag = "pages", responses((status = 303, description = "redirect")))]
pub async fn request_create(
    State(s): State<AppState>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let input = RequestInput {
        entry_id: f.i64("entry_id").unwrap_or(0),
        items: f
            .str("items")
            .split(['、', ',', '，'])
            .map(|x| x.trim().to_owned())
            .filter(|x| !x.is_empty())
            .collect(),
        purpose: f.str("purpose"),
        legal_basis: f.get("legal_basis"),
        period_until: f.str("period_until"),
        consumer_system: f.str("consumer_system"),
        complex: f.get("complex").is_some(),
    };
    after(
        &pc,
        s.exchange.request(&pc.caller, input).await,
        "/exchange",
        "ok_saved",
        "/exchange",
    )
}

/// Check (bureau) or answer (provider) a request; revoke a grant.
#[utoipa::path(post, path = "/exchange/{id}/{action}", tag = "pages",
    params(("id" = i64, Path), ("action" = String, Path, description = "pass | refuse_check | grant | refuse | revoke (a grant) | subscribe (to a grant's table) | deliver (a subscription now)")),
    responses((status = 303, description = "redirect")))]
pub async fn request_action(
    State(s): State<AppState>,
    Path((id, action)): Path<(i64, String)>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let c = &pc.caller;
    let reason = f.str("reason");
    let r = match action.as_str() {
        "pass" => s
            .exchange
            .bureau_decide(c, id, true, &reason)
            .await
            .map(|_| ()),
        "refuse_check" => s
            .exchange
            .bureau_decide(c, id, false, &reason)
            .await
            .map(|_| ()),
        "grant" => s
            .exchange
            .provider_decide(c, id, true, &reason)
            .await
            .map(|_| ()),
        "refuse" => s
            .exchange
            .provider_decide(c, id, false, &reason)
            .await
            .map(|_| ()),
        "revoke" => s.gateway.revoke_grant(c, id, &reason).await.map(|_| ()),
        "subscribe" => s.gateway.subscribe(c, id).await.map(|_| ()),
        "deliver" => s.gateway.deliver(c, id).await.map(|_| ()),
        _ => Err(shuju_types::Error::not_found("action")),
    };
    let to = format!(
        "/exchange?view={}",
        f.get("view").unwrap_or_else(|| "mine".into())
    );
    after(&pc, r, &to, "ok_saved", &to)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct YearQuery {
    year: Option<i64>,
    flash: Option<String>,
}

/// IT projects with their four checks, and the year's figures.
#[utoipa::path(get, path = "/projects", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn projects_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<YearQuery>,
) -> Response {
    let c = &pc.caller;
    let year = q
        .year
        .unwrap_or_else(|| chrono::Datelike::year(&chrono::Utc::now()) as i64);
    let r = async {
        let list = s.projects.list(c, Some(year)).await?;
        let figures = s.projects.figures(c, year).await?;
        let tree = s.admin.department_tree(c).await?;
        Ok::<_, shuju_types::Error>(context! {
            year => year,
            projects => list.into_iter().map(ProjectDto::from).collect::<Vec<_>>(),
            figures => crate::api::projects::FiguresView::from(figures),
            depts => tree.into_iter().map(|(depth, d)| context! { id => d.id, name => d.name, depth => depth }).collect::<Vec<_>>(),
            can => context! { add => c.can(perm::PROJECT_ADD), review => c.can(perm::PROJECT_REVIEW) },
            ..base(&pc, "projects", &Flash::take(&pc, q.flash.as_deref()))
        })
    }
    .await;
    page("projects.html", r)
}

/// Register a project from the form.
#[utoipa::path(post, path = "/projects", tag = "pages", responses((status = 303, description = "redirect")))]
pub async fn project_create(
    State(s): State<AppState>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let systems: Vec<String> = f
        .str("systems")
        .split(['、', ',', '，'])
        .map(|x| x.trim().to_owned())
        .filter(|x| !x.is_empty())
        .collect();
    let budget = f.i64("budget_asked").unwrap_or(0);
    after(
        &pc,
        s.projects
            .register(
                &pc.caller,
                &f.str("name"),
                f.i64("dept_id").unwrap_or(0),
                f.i64("year").unwrap_or(0),
                budget,
                &systems,
            )
            .await,
        "/projects",
        "ok_saved",
        "/projects",
    )
}

/// Review a project from the form.
#[utoipa::path(post, path = "/projects/{id}/review", tag = "pages", params(("id" = i64, Path)), responses((status = 303, description = "redirect")))]
pub async fn project_review(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    after(
        &pc,
        s.projects
            .review(&pc.caller, id, f.i64("approved_budget"), &f.str("note"))
            .await,
        "/projects",
        "ok_saved",
        "/projects",
    )
}
