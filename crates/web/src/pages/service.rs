//! Service pages: a decided case's receipt (决定回执), readable, its signatures checked against
//! the trust list as the page is drawn.

use super::{Flash, PageCaller, base, page};
use crate::AppState;
use crate::extract::Path;
use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receipt_page))
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
