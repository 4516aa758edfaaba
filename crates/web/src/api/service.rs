//! Get it done once (一次办好): matters and their guides, processes, cases opened at a window or
//! online, officers' tasks, and who used an applicant's data.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Path, Query};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shuju_service::case::{Act, Contact};
use shuju_service::instant::{ReceiptView, SpotCheck};
use shuju_service::matter::Matter;
use shuju_service::notices::{Template, TemplateView};
use shuju_service::process::Process;
use shuju_service::replay::ReplayView;
use shuju_service::{CaseRow, CaseView, NoticeView, OpenCase, Preview, Pull, TaskView};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(matters, save_matter))
        .routes(routes!(matter))
        .routes(routes!(matter_versions))
        .routes(routes!(preview))
        .routes(routes!(processes, save_process))
        .routes(routes!(my_cases, open_case))
        .routes(routes!(case))
        .routes(routes!(case_notices))
        .routes(routes!(case_receipt))
        .routes(routes!(spot_checks))
        .routes(routes!(spot_check))
        .routes(routes!(replay_rules))
        .routes(routes!(replay_report))
        .routes(routes!(replay_seen))
        .routes(routes!(notice_templates))
        .routes(routes!(save_notice_template))
        .routes(routes!(act))
        .routes(routes!(resume))
        .routes(routes!(tasks))
        .routes(routes!(data_use))
        .routes(routes!(verify))
}

/// The guides of every matter (public: no sign-in needed).
#[utoipa::path(get, path = "/api/v1/matters", tag = "service",
    responses((status = 200, body = Vec<Matter>)))]
pub async fn matters(State(s): State<AppState>) -> ApiResult<Json<Vec<Matter>>> {
    Ok(Json(s.services.matters().await?))
}

/// Save a new version of a matter (checked whole; its process must exist).
#[utoipa::path(post, path = "/api/v1/matters", tag = "service", security(("bearer" = [])), request_body = Matter,
    responses((status = 200, body = Matter), (status = 400, body = ErrorBody)))]
pub async fn save_matter(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(m): Json<Matter>,
) -> ApiResult<Json<Matter>> {
    Ok(Json(s.services.save_matter(&c, m).await?))
}

/// A matter's guide (办事指南): the version in effect today.
#[utoipa::path(get, path = "/api/v1/matters/{code}", tag = "service", params(("code" = String, Path)),
    responses((status = 200, body = Matter), (status = 404, body = ErrorBody)))]
pub async fn matter(
    State(s): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<Matter>> {
    Ok(Json(s.services.matter(&code).await?))
}

/// Every version of a matter, newest first.
#[utoipa::path(get, path = "/api/v1/matters/{code}/versions", tag = "service", params(("code" = String, Path)),
    responses((status = 200, body = Vec<Matter>), (status = 404, body = ErrorBody)))]
pub async fn matter_versions(
    State(s): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<Matter>>> {
    Ok(Json(s.services.matter_history(&code).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    /// Answers to the matter's guiding questions (情形引导), by question id.
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
}

/// What a case of this matter would ask for and read, for these answers: nothing is read.
#[utoipa::path(post, path = "/api/v1/matters/{code}/preview", tag = "service", params(("code" = String, Path)), request_body = PreviewBody,
    responses((status = 200, body = Preview), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn preview(
    State(s): State<AppState>,
    Path(code): Path<String>,
    Json(b): Json<PreviewBody>,
) -> ApiResult<Json<Preview>> {
    Ok(Json(s.services.preview(&code, &b.answers).await?))
}

/// The newest version of every process.
#[utoipa::path(get, path = "/api/v1/processes", tag = "service", security(("bearer" = [])),
    responses((status = 200, body = Vec<Process>)))]
pub async fn processes(State(s): State<AppState>, Auth(_c): Auth) -> ApiResult<Json<Vec<Process>>> {
    Ok(Json(s.services.processes().await?))
}

/// Save a new version of a process: the graph is checked whole (no cycle, every stage reachable,
/// departments and roles exist); running cases stay on their version.
#[utoipa::path(post, path = "/api/v1/processes", tag = "service", security(("bearer" = [])), request_body = Process,
    responses((status = 200, body = Process), (status = 400, body = ErrorBody)))]
pub async fn save_process(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(p): Json<Process>,
) -> ApiResult<Json<Process>> {
    Ok(Json(s.services.save_process(&c, p).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    /// The matter's implementing code.
    pub matter: String,
    /// At a window: the applicant's citizen ID or credit code. Online: absent (the caller).
    pub applicant: Option<String>,
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
    /// The applicant agreed that the platform reads their data for this case. Without it
    /// nothing is read and every material is an upload.
    #[serde(default)]
    pub consent: bool,
    /// Values the applicant writes into the form's fields that are not locked, by field name.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Where the applicant is told of the case's progress (an email address, a mobile number
    /// or both); none: no notices are sent.
    #[serde(default)]
    pub contact: Option<Contact>,
}

/// Open a case (一窗受理, or online by the applicant).
#[utoipa::path(post, path = "/api/v1/cases", tag = "service", security(("bearer" = [])), request_body = OpenBody,
    responses((status = 200, body = CaseView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn open_case(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(b): Json<OpenBody>,
) -> ApiResult<Json<CaseView>> {
    let o = OpenCase {
        matter: b.matter,
        applicant: b.applicant,
        answers: b.answers,
        consent: b.consent,
        values: b.values,
        contact: b.contact.unwrap_or_default(),
    };
    Ok(Json(s.services.open(&c, &o).await?))
}

#[derive(Serialize, ToSchema)]
pub struct CaseDto {
    pub id: i64,
    pub matter_code: String,
    pub matter_version: i64,
    /// open | paused | approved | refused
    pub status: String,
    pub opened_at: String,
    pub promised_by: String,
    pub updated_at: String,
}

impl From<CaseRow> for CaseDto {
    fn from(r: CaseRow) -> Self {
        CaseDto {
            id: r.id,
            matter_code: r.matter_code,
            matter_version: r.matter_version,
            status: r.status,
            opened_at: r.opened_at,
            promised_by: r.promised_by,
            updated_at: r.updated_at,
        }
    }
}

/// The caller's own cases, newest first.
#[utoipa::path(get, path = "/api/v1/cases", tag = "service", security(("bearer" = [])),
    responses((status = 200, body = Vec<CaseDto>)))]
pub async fn my_cases(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Json<Vec<CaseDto>>> {
    Ok(Json(
        s.services
            .my_cases(&c)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// One case: its state (the fold of its events), history and what was read for it.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "service", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = ErrorBody)))]
pub async fn case(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(s.services.case(&c, id).await?))
}

/// The notices of a case (受理, 补正, 办结, 发证) and how far each one's delivery got; the
/// recipients masked. Whoever may see the case may see them.
#[utoipa::path(get, path = "/api/v1/cases/{id}/notices", tag = "service", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Vec<NoticeView>), (status = 404, body = ErrorBody)))]
pub async fn case_notices(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<NoticeView>>> {
    Ok(Json(s.services.notices(&c, id).await?))
}

/// A decided case's receipt (决定回执): what decided it (the rule rows with their legal basis, or
/// the officers' steps), the facts used as salted hashes, the e-licenses shown and the outcome,
/// signed with the bureau's ES256 key (JWS) and SM2 seal; check it offline against
/// `/api/v1/licenses/trust-list`. Whoever may see the case may see it.
#[utoipa::path(get, path = "/api/v1/cases/{id}/receipt", tag = "service", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ReceiptView), (status = 404, body = ErrorBody)))]
pub async fn case_receipt(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<ReceiptView>> {
    Ok(Json(s.services.receipt(&c, id).await?))
}

/// The instant approvals of the caller's department drawn for a check after the fact (随机抽查)
/// and not checked yet.
#[utoipa::path(get, path = "/api/v1/service/spot-checks", tag = "service", security(("bearer" = [])),
    responses((status = 200, body = Vec<SpotCheck>), (status = 403, body = ErrorBody)))]
pub async fn spot_checks(
    State(s): State<AppState>,
    Auth(c): Auth,
) -> ApiResult<Json<Vec<SpotCheck>>> {
    Ok(Json(s.services.spot_checks(&c).await?))
}

/// What a check after the fact found.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpotCheckBody {
    /// The approval stands; false: it was wrong, and is withdrawn with its license revoked.
    pub upheld: bool,
    pub finding: String,
}

/// Record the check of a sampled instant approval (an officer of its deciding body, once).
#[utoipa::path(post, path = "/api/v1/cases/{id}/spot-check", tag = "service", security(("bearer" = [])), params(("id" = i64, Path)), request_body = SpotCheckBody,
    responses((status = 200, body = CaseView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn spot_check(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(b): Json<SpotCheckBody>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(
        s.services.spot_check(&c, id, b.upheld, &b.finding).await?,
    ))
}

/// A draft of a rule set to replay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    /// The draft JSON Decision Model.
    #[schema(value_type = Object)]
    pub jdm: serde_json::Value,
}

/// Replay a draft of a rule set over the past cases its rules decided: who flips (approve →
/// refuse, refuse → approve, → manual) and why (the rules whose rows differ), with a gap
/// analysis (input ranges no row covers, rows that clash or are never reached). Kept; publishing
/// a rule set that decides instant matters names a replay another account has seen.
#[utoipa::path(post, path = "/api/v1/rules/{key}/replay", tag = "service", security(("bearer" = [])), params(("key" = String, Path)), request_body = ReplayBody,
    responses((status = 200, body = ReplayView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn replay_rules(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(key): Path<String>,
    Json(b): Json<ReplayBody>,
) -> ApiResult<Json<ReplayView>> {
    Ok(Json(s.services.replay(&c, &key, &b.jdm.to_string()).await?))
}

/// A replay's report.
#[utoipa::path(get, path = "/api/v1/rule-replays/{id}", tag = "service", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ReplayView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn replay_report(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<ReplayView>> {
    Ok(Json(s.services.replay_view(&c, id).await?))
}

/// Record that the caller (not the account that ran it) has seen a replay's report.
#[utoipa::path(post, path = "/api/v1/rule-replays/{id}/seen", tag = "service", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ReplayView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn replay_seen(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<ReplayView>> {
    Ok(Json(s.services.replay_seen(&c, id).await?))
}

/// The notice templates in effect, one per kind and channel (version 0: the built-in text).
#[utoipa::path(get, path = "/api/v1/service/notice-templates", tag = "service", security(("bearer" = [])),
    responses((status = 200, body = Vec<TemplateView>), (status = 403, body = ErrorBody)))]
pub async fn notice_templates(
    State(s): State<AppState>,
    Auth(c): Auth,
) -> ApiResult<Json<Vec<TemplateView>>> {
    Ok(Json(s.services.notice_templates(&c).await?))
}

/// Save a new version of a notice template (kinds: received, correction, approved, refused,
/// issued; channels: email, sms). Each part must render with the variables a notice has (an
/// unknown one is refused); the subject is one line, a text message at most 500 characters.
#[utoipa::path(put, path = "/api/v1/service/notice-templates/{kind}/{channel}", tag = "service", security(("bearer" = [])),
    params(("kind" = String, Path), ("channel" = String, Path)), request_body = Template,
    responses((status = 200, body = TemplateView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn save_notice_template(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((kind, channel)): Path<(String, String)>,
    Json(t): Json<Template>,
) -> ApiResult<Json<TemplateView>> {
    Ok(Json(
        s.services
            .save_notice_template(&c, &kind, &channel, t)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActBody {
    pub act: Act,
    /// The reason; for a refusal, its legal basis.
    #[serde(default)]
    pub note: String,
}

/// Act on a task of your department and role: approve, refuse, ask for a correction (补正) or
/// start a special step (both stop the clock).
#[utoipa::path(post, path = "/api/v1/cases/{id}/tasks/{stage}", tag = "service", security(("bearer" = [])),
    params(("id" = i64, Path), ("stage" = String, Path)), request_body = ActBody,
    responses((status = 200, body = CaseView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn act(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((id, stage)): Path<(i64, String)>,
    Json(b): Json<ActBody>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(s.services.act(&c, id, &stage, b.act, &b.note).await?))
}

/// The correction is supplied or the special step is over: the clock runs again.
#[utoipa::path(post, path = "/api/v1/cases/{id}/resume", tag = "service", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resume(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(s.services.resume(&c, id).await?))
}

/// The open tasks of your department for your roles, soonest deadline first.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "service", security(("bearer" = [])),
    responses((status = 200, body = Vec<TaskView>)))]
pub async fn tasks(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Json<Vec<TaskView>>> {
    Ok(Json(s.services.tasks(&c).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DataUseQuery {
    /// A citizen ID or credit code; absent: your own.
    pub subject: Option<String>,
}

/// Who used my data (for service cases): every read, with the case, the reader and what.
#[utoipa::path(get, path = "/api/v1/service/data-use", tag = "service", security(("bearer" = [])), params(DataUseQuery),
    responses((status = 200, body = Vec<Pull>)))]
pub async fn data_use(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<DataUseQuery>,
) -> ApiResult<Json<Vec<Pull>>> {
    Ok(Json(s.services.data_use(&c, q.subject.as_deref()).await?))
}

#[derive(Serialize, ToSchema)]
pub struct VerifyReport {
    pub cases: usize,
    /// Cases whose events do not fold to their stored state.
    pub mismatched: Vec<i64>,
}

/// Replay every case from its events and compare with the stored state (administrators).
#[utoipa::path(post, path = "/api/v1/service/verify", tag = "service", security(("bearer" = [])),
    responses((status = 200, body = VerifyReport)))]
pub async fn verify(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Json<VerifyReport>> {
    let (cases, mismatched) = s.services.verify(&c).await?;
    Ok(Json(VerifyReport { cases, mismatched }))
}
