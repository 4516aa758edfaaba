//! Service pages: a case as its officers and applicant see it (form, history, open tasks, and
//! for an officer holding a task the four acts); a decided case's receipt (决定回执), readable,
//! its signatures checked against the trust list as the page is drawn; and the 24-hour
//! self-service terminal (自助终端) for instant matters.

use super::{CheckedForm, Flash, FormPairs, PageCaller, base, page, page_error, render};
use crate::AppState;
use crate::extract::Path;
use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use shuju_admin::perm;
use shuju_service::kiosk::KioskApply;
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(receipt_page))
        .routes(routes!(case_page))
        .routes(routes!(case_act))
        .routes(routes!(kiosk_page))
        .routes(routes!(kiosk_matter_page, kiosk_apply))
}

/// A case: its matter, status, form (with where each value came from), history, and the tasks
/// still open; an officer whose department and role hold one of them acts on it here. Whoever
/// may see the case may see it (another's case is not found).
#[utoipa::path(get, path = "/cases/{id}", tag = "pages", params(("id" = i64, Path)), responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn case_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Path(id): Path<i64>,
    crate::extract::Query(q): crate::extract::Query<super::FlashQuery>,
) -> Response {
    let c = &pc.caller;
    let r = async {
        let v = s.services.case(c, id).await?;
        // The stages of this case the caller's department and roles may act on.
        let mine: Vec<String> = if c.can(perm::SERVICE_HANDLE) {
            s.services
                .tasks(c)
                .await?
                .into_iter()
                .filter(|t| t.case_id == id)
                .map(|t| t.stage)
                .collect()
        } else {
            Vec::new()
        };
        let history: Vec<_> = v
            .history
            .iter()
            .map(|h| {
                let event = serde_json::to_value(&h.event).unwrap_or_default();
                let kind = event["type"].as_str().unwrap_or_default().to_owned();
                let stage = event["stage"].as_str().map(str::to_owned);
                let reason = event["reason"]
                    .as_str()
                    .or(event["note"].as_str())
                    .map(|r| crate::i18n::text(pc.lang, r));
                context! { seq => h.seq, at => h.at, actor => h.actor, kind => kind, stage => stage, reason => reason }
            })
            .collect();
        let tasks: Vec<_> = v
            .case
            .tasks
            .iter()
            .map(|(stage, t)| context! { stage => stage, due => t.due.to_string(), escalated => t.escalated, mine => mine.contains(stage) })
            .collect();
        Ok::<_, shuju_types::Error>(context! {
            id => id,
            status => v.status,
            case => context! {
                matter => v.case.matter, process => v.case.process, opened_on => v.case.opened_on.to_string(),
                promised_by => v.case.promised_by.to_string(), license => v.case.license, withdrawn => v.case.withdrawn,
            },
            form => v.case.form,
            history => history,
            tasks => tasks,
            decided => matches!(v.status.as_str(), "approved" | "refused" | "withdrawn"),
            ..base(&pc, "home", &super::Flash::take(&pc, q.flash.as_deref()))
        })
    }
    .await;
    page("case.html", r)
}

/// Act on an open task of a case: approve, refuse, ask for a correction (补正) or start a special
/// step, with a note (a refusal's and a correction's note is required by the flow).
#[utoipa::path(post, path = "/cases/{id}/act", tag = "pages", params(("id" = i64, Path)), request_body(content = FormPairs, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "redirect")))]
pub async fn case_act(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let to = format!("/cases/{id}");
    let act = match serde_json::from_value::<shuju_service::case::Act>(serde_json::Value::String(
        f.str("act"),
    )) {
        Ok(a) => a,
        Err(_) => {
            return super::back(
                &pc,
                &to,
                None,
                Some("act: must be approve, refuse, correct or special_step"),
            );
        }
    };
    let r = s
        .services
        .act(&pc.caller, id, &f.str("stage"), act, &f.str("note"))
        .await;
    super::after(&pc, r, &to, "case_acted", &to)
}

/// A decided case's receipt: what decided it and why, the facts as hashes, the e-licenses shown,
/// the outcome, and whether its ES256 signature and SM2 seal verify against the trust list.
/// Whoever may see the case may see it.
#[utoipa::path(get, path = "/cases/{id}/receipt", tag = "pages", params(("id" = i64, Path)), responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn receipt_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Path(id): Path<i64>,
) -> Response {
    let r = async {
        let r = s.services.receipt(&pc.caller, id).await?;
        let trust = s.licenses.trust_list().await?;
        let body = serde_json::to_value(&r).map_err(shuju_types::Error::internal)?;
        let verified = shuju_license::receipt::verify(&body, &trust).is_ok();
        let p = &r.payload;
        Ok::<_, shuju_types::Error>(context! {
            id => id,
            verified => verified,
            matter => p["matter"]["name"].as_str().unwrap_or_default(),
            matter_version => p["matter"]["version"].as_i64(),
            route => p["route"].as_str().unwrap_or_default(),
            outcome => p["outcome"].as_str().unwrap_or_default(),
            basis => p["basis"].as_str().unwrap_or_default(),
            decided_by => p["decided_by"].as_str().unwrap_or_default(),
            decided_on => p["decided_on"].as_str().unwrap_or_default(),
            rule_set => p["rule_set"]["key"].as_str(),
            rule_set_version => p["rule_set"]["version"].as_i64(),
            rows => p["rows"].as_array().cloned().unwrap_or_default(),
            facts => p["facts"].as_array().cloned().unwrap_or_default(),
            steps => p["officer_steps"].as_array().cloned().unwrap_or_default(),
            licenses => p["licenses_shown"].as_array().cloned().unwrap_or_default(),
            reasons => p["screening_reasons"].as_array().cloned().unwrap_or_default(),
            license_issued => p["license_issued"].as_str(),
            es256_kid => r.es256_kid,
            sm2_kid => r.sm2_kid,
            signed_at => r.created_at,
            ..base(&pc, "receipt", &Flash::default())
        })
    }
    .await;
    page("receipt.html", r)
}

/// The 24-hour self-service terminal: the instant matters in effect, to choose from. The
/// terminal's account is one that may take applications at its centre.
#[utoipa::path(get, path = "/kiosk", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn kiosk_page(State(s): State<AppState>, pc: PageCaller) -> Response {
    let r = async {
        terminal(&pc)?;
        let matters = s.services.kiosk_matters().await?;
        Ok(context! {
            matters => matters,
            presence => s.services.presence().describe(),
            ..base(&pc, "kiosk", &Flash::default())
        })
    }
    .await;
    page("kiosk.html", r)
}

/// The terminal pages are for an account that takes applications at its centre.
fn terminal(pc: &PageCaller) -> shuju_types::Result<()> {
    if pc.caller.can(perm::SERVICE_INTAKE) {
        Ok(())
    } else {
        Err(shuju_types::Error::forbidden(
            "this page is for a self-service terminal's account",
        ))
    }
}

/// What the applicant writes, the questions, and what applying reads, for consent.
async fn kiosk_form(
    s: &AppState,
    pc: &PageCaller,
    code: &str,
    f: Option<&FormPairs>,
    err: Option<String>,
) -> shuju_types::Result<minijinja::Value> {
    terminal(pc)?;
    let m = s
        .services
        .kiosk_matters()
        .await?
        .into_iter()
        .find(|m| m.code == code)
        .ok_or_else(|| shuju_types::Error::not_found(format!("instant matter {code}")))?;
    let answers: BTreeMap<String, String> = m
        .questions
        .iter()
        .filter_map(|q| {
            f.and_then(|f| f.get(&format!("answer.{}", q.id)))
                .or_else(|| q.answers.first().cloned())
                .map(|a| (q.id.clone(), a))
        })
        .collect();
    let values: BTreeMap<String, String> = m
        .form
        .iter()
        .filter_map(|x| {
            f.and_then(|f| f.get(&format!("value.{}", x.name)))
                .map(|v| (x.name.clone(), v))
        })
        .collect();
    let preview = s.services.preview(code, &answers).await?;
    let mut reads: Vec<String> = preview
        .fields
        .iter()
        .filter(|x| !x.reads.is_empty())
        .map(|x| x.label.clone())
        .collect();
    reads.extend(
        preview
            .materials
            .iter()
            .filter(|x| x.served_by != "upload")
            .map(|x| x.name.clone()),
    );
    if let Some(i) = &m.instant {
        reads.extend(i.facts.iter().map(|x| format!("{x}（秒批核验）")));
        reads.extend(i.licenses.iter().map(|x| format!("{x}（电子证照）")));
    }
    reads.dedup();
    let own: Vec<&shuju_service::matter::Field> = m
        .form
        .iter()
        .filter(|x| x.element.is_none() && x.fact.is_none())
        .collect();
    let flash = err.map(Flash::err).unwrap_or_default();
    Ok(context! {
        matter => m,
        own_fields => own,
        reads => reads,
        answers => answers,
        values => values,
        citizen_id => f.map(|f| f.str("citizen_id")),
        name => f.map(|f| f.str("name")),
        presence => s.services.presence().describe(),
        ..base(pc, "kiosk", &flash)
    })
}

/// One instant matter at the terminal: ID and name, the questions, the applicant's own fields,
/// and consent.
#[utoipa::path(get, path = "/kiosk/{code}", tag = "pages", params(("code" = String, Path)), responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn kiosk_matter_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Path(code): Path<String>,
) -> Response {
    let r = kiosk_form(&s, &pc, &code, None, None).await;
    page("kiosk.html", r)
}

/// Apply at the terminal: the real-person check, then the case opens and the rules decide; an
/// approval shows the permit as a QR code. A refusal of the check or of the input shows the form
/// again with the reason.
#[utoipa::path(post, path = "/kiosk/{code}", tag = "pages", params(("code" = String, Path)), request_body(content = FormPairs, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "HTML page with the decision", content_type = "text/html")))]
pub async fn kiosk_apply(
    State(s): State<AppState>,
    Path(code): Path<String>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let pick = |prefix: &str| -> BTreeMap<String, String> {
        f.0.iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(prefix)
                    .filter(|_| !v.trim().is_empty())
                    .map(|k| (k.to_owned(), v.trim().to_owned()))
            })
            .collect()
    };
    let apply = KioskApply {
        matter: code.clone(),
        citizen_id: f.str("citizen_id"),
        name: f.str("name"),
        evidence: f.str("evidence"),
        consent: f.get("consent").is_some(),
        answers: pick("answer."),
        values: pick("value."),
    };
    match s.services.kiosk_apply(&pc.caller, &apply).await {
        Ok(out) => {
            let case = &out.case.case;
            let matter = s
                .services
                .matter(&case.matter)
                .await
                .map(|m| m.name)
                .unwrap_or_else(|_| case.matter.clone());
            let mut reasons: Vec<String> = case
                .screened
                .as_ref()
                .map(|x| x.reasons.clone())
                .unwrap_or_default();
            if let Some(d) = &case.decided
                && !d.basis.is_empty()
                && reasons.is_empty()
            {
                reasons.push(d.basis.clone());
            }
            let qr = out.permit.as_deref().and_then(|p| {
                qrcode::QrCode::with_error_correction_level(p.as_bytes(), qrcode::EcLevel::L)
                    .ok()
                    .map(|q| {
                        let svg = q
                            .render::<qrcode::render::svg::Color<'_>>()
                            .min_dimensions(360, 360)
                            .build();
                        svg.split_once("?>")
                            .map(|(_, svg)| svg.to_owned())
                            .unwrap_or(svg)
                    })
            });
            render(
                "kiosk.html",
                context! {
                    outcome => context! {
                        id => out.case.id,
                        status => out.case.status,
                        matter => matter,
                        license => case.license,
                        reasons => reasons,
                    },
                    qr => qr.map(minijinja::Value::from_safe_string),
                    presence => out.presence,
                    ..base(&pc, "kiosk", &Flash::default())
                },
            )
        }
        Err(e) if e.code == shuju_types::ErrorCode::Internal => page_error(e),
        Err(e) => {
            let msg = match &e.field {
                Some(field) if !e.message.starts_with(field.as_str()) => {
                    format!("{field}: {}", crate::i18n::say(pc.lang, &e))
                }
                _ => crate::i18n::say(pc.lang, &e),
            };
            let r = kiosk_form(&s, &pc, &code, Some(&f), Some(msg)).await;
            let mut resp = page("kiosk.html", r);
            if resp.status().is_success() {
                *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            }
            resp
        }
    }
}
