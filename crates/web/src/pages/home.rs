//! The home page, a workbench (工作台) per role: what waits for the caller (entries to review,
//! requests to check or answer, corrections, match reviews, tasks with their deadlines, an
//! applicant's own cases), each counted in the caller's scope; the platform's figures only for the
//! bureau (a caller who sees every department), never for departments, enterprises or citizens.

use super::{Flash, FlashQuery, PageCaller, base, page_error, render};
use crate::AppState;
use crate::extract::Query;
use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use serde::Serialize;
use shuju_admin::{Caller, DataScope, perm};
use shuju_types::Result;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(home))
}

/// Published figures of the reference city (DESIGN.md §1): the scale the platform must carry.
const FIGURES: &[(&str, &str)] = &[
    ("政务信息资源目录 / catalogued resources", "~30,000"),
    ("汇聚数据 / records in the lake", "300,000,000+"),
    ("业务系统 / business systems", "315"),
    ("共享视频 / shared cameras", "~30,000 (14 agencies)"),
    ("电子证照类型 / e-license types", "7+"),
    ("可亮证事项 / matters accepting a shown e-license", "90+"),
];

/// One line of the workbench: what waits, how much of it is urgent, where to act on it.
#[derive(Serialize)]
struct Todo {
    key: &'static str,
    count: usize,
    urgent: usize,
    href: &'static str,
}

/// What waits for the caller, each from the service that owns it (so in the caller's scope).
async fn todos(s: &AppState, c: &Caller) -> Result<Vec<Todo>> {
    let mut out = Vec::new();
    let mut push = |key, count, urgent, href| {
        out.push(Todo {
            key,
            count,
            urgent,
            href,
        })
    };
    if c.can(perm::CATALOG_REVIEW) {
        let f = shuju_catalog::rows::EntryFilter {
            status: Some("submitted".into()),
            ..Default::default()
        };
        let page = shuju_store::Page::new(Some(1), Some(1));
        let n = s.catalog.list_managed(c, f, None, page).await?.total;
        push("todo_catalog_review", n as usize, 0, "/catalog/review");
    }
    if c.can(perm::EXCHANGE_CHECK) {
        let n = s.exchange.requests(c, "to_check").await?.len();
        push("todo_exchange_check", n, 0, "/exchange?view=to_check");
    }
    if c.can(perm::EXCHANGE_ANSWER) {
        let rows = s.exchange.requests(c, "to_answer").await?;
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let late = rows
            .iter()
            .filter(|r| r.deadline.as_deref().is_some_and(|d| d <= today.as_str()))
            .count();
        push(
            "todo_exchange_answer",
            rows.len(),
            late,
            "/exchange?view=to_answer",
        );
    }
    if c.can(perm::CORRECTION_ANSWER) {
        let page = shuju_store::Page::new(Some(1), Some(1));
        let view = shuju_catalog::CorrectionView::ToAnswer;
        let n = s
            .catalog
            .corrections(c, view, Some("open".into()), page)
            .await?
            .total;
        push("todo_corrections", n as usize, 0, "/catalog/corrections");
    }
    if c.can(perm::IDENTITY_REVIEW) {
        let n = s.persons.reviews(c, None, 1000).await?.len();
        push("todo_person_reviews", n, 0, "/persons/reviews");
    }
    if c.can(perm::WALLET) {
        // An account not bound to a holder (the administrator) has no wallet to count; any
        // other failure fails the page.
        match s.licenses.wallet(c).await {
            Ok((_, l)) => {
                let n = l.iter().filter(|l| l.row.status == "valid").count();
                push("todo_wallet", n, 0, "/wallet");
            }
            Err(e) if e.code == shuju_types::ErrorCode::PermissionDenied => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// An applicant's case as the workbench lists it.
#[derive(Serialize)]
struct MyCase {
    id: i64,
    matter_code: String,
    status: String,
    opened_at: String,
    promised_by: String,
}

/// Whether the caller is the bureau: sees every department, so the platform's figures.
fn bureau(c: &Caller) -> bool {
    c.scopes.contains(&DataScope::All)
}

/// Home: the caller's workbench.
#[utoipa::path(get, path = "/home", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn home(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<FlashQuery>,
) -> Response {
    let flash = Flash::take(&pc, q.flash.as_deref());
    let c = &pc.caller;
    let work = async {
        let todos = todos(&s, c).await?;
        let tasks = if c.can(perm::SERVICE_HANDLE) {
            s.services.tasks(c).await?
        } else {
            Vec::new()
        };
        let cases = if c.can(perm::SERVICE_APPLY) {
            s.services.my_cases(c).await?
        } else {
            Vec::new()
        };
        Ok::<_, shuju_types::Error>((todos, tasks, cases))
    };
    let (todos, tasks, cases) = match work.await {
        Ok(w) => w,
        Err(e) => return page_error(e),
    };
    let urgent_tasks = tasks.iter().filter(|t| t.badge != "on_time").count();
    let figures = if bureau(c) {
        match bureau_figures(&s).await {
            Ok(f) => Some(f),
            Err(e) => return page_error(e),
        }
    } else {
        None
    };
    render(
        "home.html",
        context! {
            todos => todos,
            tasks => tasks.iter().take(20).collect::<Vec<_>>(),
            tasks_total => tasks.len(),
            urgent_tasks => urgent_tasks,
            cases => cases.into_iter().take(20).map(|c| MyCase {
                id: c.id, matter_code: c.matter_code, status: c.status,
                opened_at: c.opened_at, promised_by: c.promised_by,
            }).collect::<Vec<_>>(),
            figures => figures,
            ..base(&pc, "home", &flash)
        },
    )
}

/// The platform's figures, for the bureau: what it holds and the reference city's scale.
async fn bureau_figures(s: &AppState) -> Result<minijinja::Value> {
    let stats = s.admin.overview().await?;
    let (entries, published, systems, cloud) = s.catalog.figures().await?;
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let rows = s.licenses.figures().await?;
    let shows_total = rows.iter().map(|r| r.3).sum::<i64>();
    let shows_month = rows
        .iter()
        .filter(|r| r.0 == month)
        .map(|r| r.3)
        .sum::<i64>();
    Ok(context! {
        stats => stats,
        catalog => context! {
            entries => entries, published => published, systems => systems,
            cloud_rate => if systems > 0 { format!("{:.1}%", cloud as f64 * 100.0 / systems as f64) } else { "—".into() },
        },
        shows => context! { total => shows_total, month => shows_month },
        city => FIGURES,
    })
}
