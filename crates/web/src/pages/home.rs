//! The home page: counts and the reference city's figures.

use super::{Flash, FlashQuery, PageCaller, base, page_error, render};
use crate::AppState;
use crate::extract::Query;
use axum::extract::State;
use axum::response::Response;
use minijinja::context;
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

/// Home: counts of what the platform holds.
#[utoipa::path(get, path = "/home", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn home(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<FlashQuery>,
) -> Response {
    let flash = Flash::take(&pc, q.flash.as_deref());
    let stats = s.admin.overview().await;
    let catalog = s.catalog.figures().await;
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let (shows_total, shows_month) = s
        .licenses
        .figures()
        .await
        .map(|rows| {
            (
                rows.iter().map(|r| r.3).sum::<i64>(),
                rows.iter()
                    .filter(|r| r.0 == month)
                    .map(|r| r.3)
                    .sum::<i64>(),
            )
        })
        .unwrap_or_default();
    match stats.and_then(|st| catalog.map(|c| (st, c))) {
        Ok((stats, (entries, published, systems, cloud))) => render(
            "home.html",
            context! {
                stats => stats,
                catalog => context! {
                    entries => entries, published => published, systems => systems,
                    cloud_rate => if systems > 0 { format!("{:.1}%", cloud as f64 * 100.0 / systems as f64) } else { "—".into() },
                },
                shows => context! { total => shows_total, month => shows_month },
                figures => FIGURES,
                ..base(&pc, "home", &flash)
            },
        ),
        Err(e) => page_error(e),
    }
}
