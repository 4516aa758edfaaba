//! E-license pages: the registry with issuing, one license with its actions and the show screen
//! (QR code), and the verify screen for officials.

use super::{CheckedForm, Flash, PageCaller, back, base, page, render};
use crate::AppState;
use crate::api::licenses::{LicenseDto, LicenseSummary};
use crate::extract::{Path, Query};
use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use serde_json::{Map, Value};
use shuju_admin::perm;
use shuju_license::LicenseFilter;
use shuju_license::registry::IssueInput;
use shuju_license::sdjwt::Status;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(registry, issue))
        .routes(routes!(issue_bulk))
        .routes(routes!(wallet_page))
        .routes(routes!(license_page))
        .routes(routes!(license_action))
        .routes(routes!(verify_page, verify_submit))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RegistryQuery {
    holder_id: Option<String>,
    status: Option<String>,
    page: Option<u32>,
    flash: Option<String>,
    /// On one license's page: why its claims are read (shows them, audited).
    purpose: Option<String>,
}

/// The license registry, with the issuing form.
#[utoipa::path(get, path = "/licenses", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn registry(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<RegistryQuery>,
) -> Response {
    let c = &pc.caller;
    let r = async {
        let f = LicenseFilter { holder_id: q.holder_id.clone(), status: q.status.clone(), ..Default::default() };
        let page = s.licenses.list(c, f, shuju_store::Page::new(q.page, Some(20))).await?;
        let types = s.licenses.types().await?;
        let shows = s.licenses.figures().await?;
        let total_shows: i64 = shows.iter().map(|r| r.3).sum();
        Ok::<_, shuju_types::Error>(context! {
            page => crate::api::Paged::map(page, LicenseSummary::from),
            types => types.iter().map(|t| context! { key => t.type_key, name => t.name, claims => serde_json::from_str::<Value>(&t.claims).unwrap_or(Value::Null) }).collect::<Vec<_>>(),
            shows => shows.iter().map(|(m, matter, t, n)| context! { month => m, matter => matter, type_key => t, n => n }).collect::<Vec<_>>(),
            total_shows => total_shows,
            q_holder => q.holder_id.clone(), q_status => q.status.clone(),
            pager_base => "/licenses?",
            can_issue => c.can(perm::LICENSE_ISSUE),
            ..base(&pc, "licenses", &Flash::take(&pc, q.flash.as_deref()))
        })
    }
    .await;
    page("licenses.html", r)
}

/// Issue a license from the form (claims as `name=value` lines).
#[utoipa::path(post, path = "/licenses", tag = "pages", responses((status = 303, description = "redirect")))]
pub async fn issue(State(s): State<AppState>, CheckedForm { pc, f }: CheckedForm) -> Response {
    let mut claims = Map::new();
    for line in f.str("claims").lines() {
        if let Some((k, v)) = line.split_once('=') {
            claims.insert(k.trim().to_owned(), Value::String(v.trim().to_owned()));
        }
    }
    let input = IssueInput {
        type_key: f.str("type_key"),
        holder_id: f.str("holder_id"),
        holder_name: f.str("holder_name"),
        claims,
        valid_from: None,
        valid_until: f.get("valid_until"),
        holder_jwk: None,
    };
    match s.licenses.issue(&pc.caller, input, None).await {
        Ok(v) => back(
            &pc,
            &format!("/licenses/{}", v.row.id),
            Some("ok_saved"),
            None,
        ),
        Err(e) => back(&pc, "/licenses", None, Some(&e.message)),
    }
}

/// Issue licenses of a type in bulk from the lake; the counts come back as the message.
#[utoipa::path(post, path = "/licenses/bulk", tag = "pages", responses((status = 303, description = "redirect")))]
pub async fn issue_bulk(State(s): State<AppState>, CheckedForm { pc, f }: CheckedForm) -> Response {
    let limit = f.get("limit").and_then(|l| l.trim().parse().ok());
    match s
        .licenses
        .issue_bulk(&pc.caller, &s.lake, &f.str("type_key"), limit)
        .await
    {
        Ok(r) => back(
            &pc,
            "/licenses",
            Some(&format!(
                "{}: {} {} · {} {} · {} {}",
                r.tables.join(", "),
                crate::i18n::t(pc.lang, "issued"),
                r.issued,
                crate::i18n::t(pc.lang, "already_issued"),
                r.already,
                crate::i18n::t(pc.lang, "rejected"),
                r.rejected.len()
            )),
            None,
        ),
        Err(e) => back(&pc, "/licenses", None, Some(&e.message)),
    }
}

/// The holder's own wallet: its licenses, each with the matters it can be shown for.
#[utoipa::path(get, path = "/wallet", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn wallet_page(State(s): State<AppState>, pc: PageCaller) -> Response {
    let r = async {
        // An account that may hold a wallet but is not bound to a holder yet (the administrator)
        // meets an empty wallet saying who binds it, not an error.
        let (holder, licenses, flash) = match s.licenses.wallet(&pc.caller).await {
            Ok((h, l)) => (Some(h), l, Flash::default()),
            Err(e)
                if e.code == shuju_types::ErrorCode::PermissionDenied
                    && pc.caller.can(perm::WALLET) =>
            {
                (None, Vec::new(), Flash::err(crate::i18n::say(pc.lang, &e)))
            }
            Err(e) => return Err(e),
        };
        let matters = s.licenses.matters().await?;
        Ok::<_, shuju_types::Error>(context! {
            holder => holder,
            licenses => licenses.into_iter().map(|v| {
                let ms: Vec<_> = matters.iter().filter(|m| m.type_key == v.type_key).map(|m| context! { code => m.code, name => m.name }).collect();
                context! { l => LicenseDto::from(v), matters => ms }
            }).collect::<Vec<_>>(),
            nonce => s.licenses.page_nonce("window-01")?,
            ..base(&pc, "wallet", &flash)
        })
    }
    .await;
    page("wallet.html", r)
}

/// One license: claims, status and actions, and the show form.
#[utoipa::path(get, path = "/licenses/{id}", tag = "pages", params(("id" = i64, Path)), responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn license_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Path(id): Path<i64>,
    Query(q): Query<RegistryQuery>,
) -> Response {
    let c = &pc.caller;
    let r = async {
        // The record as lists show it; the claims only for a stated purpose (audited).
        let purpose = q.purpose.clone().filter(|p| !p.trim().is_empty());
        let v = match &purpose {
            Some(p) => {
                let mut reader = c.clone();
                reader.purpose = Some(p.clone());
                s.licenses.get(&reader, id).await?
            }
            None => s.licenses.summary(c, id).await?,
        };
        let matters: Vec<_> = s
            .licenses
            .matters()
            .await?
            .into_iter()
            .filter(|m| m.type_key == v.type_key)
            .map(|m| context! { code => m.code, name => m.name, claims => serde_json::from_str::<Vec<String>>(&m.claims).unwrap_or_default().join("、") })
            .collect();
        Ok::<_, shuju_types::Error>(context! {
            l => LicenseDto::from(v),
            full => purpose.is_some(),
            purpose => purpose,
            matters => matters,
            nonce => s.licenses.page_nonce("window-01")?,
            can => context! { revoke => c.can(perm::LICENSE_REVOKE), issue => c.can(perm::LICENSE_ISSUE), show => c.can(perm::LICENSE_SHOW) },
            ..base(&pc, "licenses", &Flash::take(&pc, q.flash.as_deref()))
        })
    }
    .await;
    page("license.html", r)
}

/// Actions on a license: suspend, reinstate, revoke, renew, show.
#[utoipa::path(post, path = "/licenses/{id}/{action}", tag = "pages",
    params(("id" = i64, Path), ("action" = String, Path, description = "suspend | reinstate | revoke | renew | show")),
    responses((status = 303, description = "redirect"), (status = 200, description = "the show screen", content_type = "text/html")))]
pub async fn license_action(
    State(s): State<AppState>,
    Path((id, action)): Path<(i64, String)>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let c = &pc.caller;
    let to = format!("/licenses/{id}");
    let reason = f.str("reason");
    let r = match action.as_str() {
        "suspend" => s
            .licenses
            .set_status(c, id, Status::Suspended, &reason)
            .await
            .map(|_| to.clone()),
        "reinstate" => s
            .licenses
            .set_status(c, id, Status::Valid, &reason)
            .await
            .map(|_| to.clone()),
        "revoke" => s
            .licenses
            .set_status(c, id, Status::Revoked, &reason)
            .await
            .map(|_| to.clone()),
        "renew" => s
            .licenses
            .renew(c, id, None, f.get("valid_until"))
            .await
            .map(|v| format!("/licenses/{}", v.row.id)),
        "show" => {
            let (matter, aud, nonce) = (f.str("matter"), f.str("aud"), f.str("nonce"));
            return match s.licenses.show(c, id, &matter, &aud, &nonce).await {
                Ok(shown) => {
                    let receipt = s
                        .licenses
                        .receipt(&shown, &matter, &aud)
                        .await
                        .unwrap_or_default();
                    let qr = qrcode::QrCode::with_error_correction_level(
                        shown.presentation.as_bytes(),
                        qrcode::EcLevel::L,
                    )
                    .map(|q| {
                        q.render::<qrcode::render::svg::Color<'_>>()
                            .min_dimensions(360, 360)
                            .build()
                    })
                    .unwrap_or_default();
                    render(
                        "license_show.html",
                        context! {
                            id => id, back => if c.can(perm::LICENSE_LIST) { format!("/licenses/{id}") } else { "/wallet".to_owned() }, matter => matter, aud => aud, nonce => nonce, claims => shown.claims,
                            presentation => shown.presentation, receipt => receipt,
                            qr => minijinja::Value::from_safe_string(qr.split_once("?>").map(|(_, svg)| svg.to_owned()).unwrap_or(qr)),
                            ..base(&pc, "licenses", &Flash::default())
                        },
                    )
                }
                Err(e) => back(&pc, &to, None, Some(&e.message)),
            };
        }
        _ => Err(shuju_types::Error::not_found("action")),
    };
    match r {
        Ok(to) => back(&pc, &to, Some("ok_saved"), None),
        Err(e) => back(&pc, &to, None, Some(&e.message)),
    }
}

/// The verify screen for officials at a window.
#[utoipa::path(get, path = "/licenses/verify", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn verify_page(State(s): State<AppState>, pc: PageCaller) -> Response {
    // The holder presents for this screen's nonce, which verifies once.
    let nonce = s.licenses.page_nonce("window-01").unwrap_or_default();
    render(
        "license_verify.html",
        context! { result => Value::Null, aud => "window-01", nonce => nonce, ..base(&pc, "license_verify", &Flash::default()) },
    )
}

/// Verify a pasted or scanned presentation.
#[utoipa::path(post, path = "/licenses/verify", tag = "pages", responses((status = 200, description = "HTML page with the result", content_type = "text/html")))]
pub async fn verify_submit(
    State(s): State<AppState>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let (p, aud, nonce) = (f.str("presentation"), f.str("aud"), f.str("nonce"));
    let result = match s.licenses.verify(p.trim(), aud.trim(), nonce.trim()).await {
        Ok(v) => {
            context! { valid => true, license_id => v.license_id, vct => v.vct, issuer => v.issuer, claims => v.claims }
        }
        Err(e) => context! { valid => false, reason => crate::i18n::say(pc.lang, &e) },
    };
    render(
        "license_verify.html",
        context! { result => result, aud => aud, nonce => nonce, ..base(&pc, "license_verify", &Flash::default()) },
    )
}
