//! The IT-project funding gate.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Path, Query};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shuju_exchange::projects::{ProjectView, YearFigures};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, register))
        .routes(routes!(review))
        .routes(routes!(figures))
}

#[derive(Serialize, ToSchema)]
pub struct CheckView {
    /// catalogued | shared | exchanged | systems_registered
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProjectDto {
    pub id: i64,
    pub name: String,
    pub dept_id: i64,
    pub year: i64,
    /// Yuan.
    pub budget_asked: i64,
    pub systems: Vec<String>,
    /// submitted | approved | rejected
    pub status: String,
    pub approved_budget: Option<i64>,
    pub review_note: Option<String>,
    /// The four checks, computed from the platform's data now.
    pub checks: Vec<CheckView>,
    pub fundable: bool,
}

impl From<ProjectView> for ProjectDto {
    fn from(v: ProjectView) -> Self {
        let r = v.row;
        ProjectDto {
            id: r.id,
            name: r.name,
            dept_id: r.dept_id,
            year: r.year,
            budget_asked: r.budget_asked,
            systems: serde_json::from_str(&r.systems).unwrap_or_default(),
            status: r.status,
            approved_budget: r.approved_budget,
            review_note: r.review_note,
            checks: v
                .checks
                .into_iter()
                .map(|c| CheckView {
                    name: c.name.into(),
                    passed: c.passed,
                    detail: c.detail,
                })
                .collect(),
            fundable: v.fundable,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectBody {
    pub name: String,
    pub dept_id: i64,
    pub year: i64,
    pub budget_asked: i64,
    /// Names of the business systems the project builds or changes.
    #[serde(default)]
    pub systems: Vec<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    pub year: Option<i64>,
}

/// Projects in your data scope, with their checks.
#[utoipa::path(get, path = "/api/v1/projects", tag = "exchange", security(("bearer" = [])), params(YearQuery),
    responses((status = 200, body = Vec<ProjectDto>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<YearQuery>,
) -> ApiResult<Json<Vec<ProjectDto>>> {
    Ok(Json(
        s.projects
            .list(&c, q.year)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Register a project for the funding review.
#[utoipa::path(post, path = "/api/v1/projects", tag = "exchange", security(("bearer" = [])), request_body = ProjectBody,
    responses((status = 200, body = ProjectDto), (status = 400, body = ErrorBody)))]
pub async fn register(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(b): Json<ProjectBody>,
) -> ApiResult<Json<ProjectDto>> {
    Ok(Json(
        s.projects
            .register(&c, &b.name, b.dept_id, b.year, b.budget_asked, &b.systems)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// The approved budget (yuan); absent: rejected, with a note.
    pub approved_budget: Option<i64>,
    #[serde(default)]
    pub note: String,
}

/// Record the review: approve with a budget (only a fundable project), or reject with a reason.
#[utoipa::path(post, path = "/api/v1/projects/{id}/review", tag = "exchange", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ReviewBody,
    responses((status = 200, body = ProjectDto), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn review(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(b): Json<ReviewBody>,
) -> ApiResult<Json<ProjectDto>> {
    Ok(Json(
        s.projects
            .review(&c, id, b.approved_budget, &b.note)
            .await?
            .into(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct FiguresView {
    pub year: i64,
    pub reviewed: usize,
    pub approved: usize,
    pub budget_asked: i64,
    pub budget_approved: i64,
}

impl From<YearFigures> for FiguresView {
    fn from(f: YearFigures) -> Self {
        FiguresView {
            year: f.year,
            reviewed: f.reviewed,
            approved: f.approved,
            budget_asked: f.budget_asked,
            budget_approved: f.budget_approved,
        }
    }
}

/// The year's figures: reviewed, approved, budget asked vs approved.
#[utoipa::path(get, path = "/api/v1/projects/figures", tag = "exchange", security(("bearer" = [])),
    params(("year" = i64, Query, description = "the year the figures are for")),
    responses((status = 200, body = FiguresView), (status = 400, body = ErrorBody)))]
pub async fn figures(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<YearQuery>,
) -> ApiResult<Json<FiguresView>> {
    let year = q
        .year
        .ok_or_else(|| shuju_types::Error::invalid("year", "is required"))?;
    Ok(Json(s.projects.figures(&c, year).await?.into()))
}
