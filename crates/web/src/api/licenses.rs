//! Electronic licenses: types and matters, the registry, renewal, status, showing and verifying,
//! the status list and the trust list.

use super::Paged;
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Path, Query};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use shuju_license::LicenseFilter;
use shuju_license::registry::{IssueInput, LicenseView};
use shuju_license::sdjwt::Status;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(types))
        .routes(routes!(matters))
        .routes(routes!(list, issue))
        .routes(routes!(get))
        .routes(routes!(issue_bulk))
        .routes(routes!(wallet))
        .routes(routes!(bind_holder))
        .routes(routes!(renew))
        .routes(routes!(set_status))
        .routes(routes!(show))
        .routes(routes!(nonce))
        .routes(routes!(verify))
        .routes(routes!(status_list))
        .routes(routes!(trust_list))
        .routes(routes!(bundle))
}

#[derive(Serialize, ToSchema)]
pub struct TypeView {
    pub type_key: String,
    pub name: String,
    /// The definer's USCC and 3 digits (GB/T 36904).
    pub type_code: String,
    /// citizen | enterprise
    pub holder_kind: String,
    /// [{name, label}]
    pub claims: Value,
    pub validity_days: Option<i64>,
}

/// License types with their claim schemas.
#[utoipa::path(get, path = "/api/v1/license-types", tag = "licenses", responses((status = 200, body = Vec<TypeView>)))]
pub async fn types(State(s): State<AppState>) -> ApiResult<Json<Vec<TypeView>>> {
    Ok(Json(
        s.licenses
            .types()
            .await?
            .into_iter()
            .map(|t| TypeView {
                type_key: t.type_key,
                name: t.name,
                type_code: t.type_code,
                holder_kind: t.holder_kind,
                claims: serde_json::from_str(&t.claims).unwrap_or(Value::Null),
                validity_days: t.validity_days,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct MatterView {
    pub code: String,
    pub name: String,
    pub type_key: String,
    /// The claims a show for this matter discloses.
    pub claims: Vec<String>,
}

/// Approval matters that accept a shown license, with the claims each needs.
#[utoipa::path(get, path = "/api/v1/license-matters", tag = "licenses", responses((status = 200, body = Vec<MatterView>)))]
pub async fn matters(State(s): State<AppState>) -> ApiResult<Json<Vec<MatterView>>> {
    Ok(Json(
        s.licenses
            .matters()
            .await?
            .into_iter()
            .map(|m| MatterView {
                code: m.code,
                name: m.name,
                type_key: m.type_key,
                claims: serde_json::from_str(&m.claims).unwrap_or_default(),
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct LicenseDto {
    pub id: i64,
    /// GB/T 36904 identifier.
    pub license_id: String,
    pub type_key: String,
    pub type_name: String,
    pub holder_kind: String,
    /// Masked in lists; in full when one license is read (an audited read).
    pub holder_id: String,
    pub holder_name: String,
    pub issuer_dept_id: i64,
    pub claims: Value,
    pub version: i64,
    pub predecessor_id: Option<i64>,
    pub valid_from: String,
    pub valid_until: Option<String>,
    /// valid | suspended | revoked
    pub status: String,
    pub status_idx: i64,
    /// The SD-JWT VC as issued (all disclosures); the holder's wallet keeps it.
    pub sd_jwt: String,
    /// SM2 signature (hex) over the canonical content.
    pub seal: String,
    pub seal_kid: String,
    pub created_at: String,
}

/// A license as lists show it: the holder masked, without its claims or token (those come from
/// `GET /api/v1/licenses/{id}` with a stated purpose, or from the holder's wallet).
#[derive(Serialize, ToSchema)]
pub struct LicenseSummary {
    pub id: i64,
    /// GB/T 36904 identifier.
    pub license_id: String,
    pub type_key: String,
    pub type_name: String,
    pub holder_kind: String,
    /// Masked.
    pub holder_id: String,
    /// Masked.
    pub holder_name: String,
    pub issuer_dept_id: i64,
    pub version: i64,
    pub predecessor_id: Option<i64>,
    pub valid_from: String,
    pub valid_until: Option<String>,
    /// valid | suspended | revoked
    pub status: String,
    /// Its entry in the Token Status List.
    pub status_idx: i64,
    pub created_at: String,
}

impl From<LicenseView> for LicenseSummary {
    fn from(v: LicenseView) -> Self {
        let r = v.row;
        LicenseSummary {
            id: r.id,
            license_id: r.license_id,
            type_key: v.type_key,
            type_name: v.type_name,
            holder_kind: r.holder_kind,
            holder_id: shuju_types::mask::mask_middle(&r.holder_id, 6, 4),
            holder_name: shuju_types::mask::mask_name(&r.holder_name),
            issuer_dept_id: r.issuer_dept_id,
            version: r.version,
            predecessor_id: r.predecessor_id,
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            status: r.status,
            status_idx: r.status_idx,
            created_at: r.created_at,
        }
    }
}

impl From<LicenseView> for LicenseDto {
    fn from(v: LicenseView) -> Self {
        let r = v.row;
        LicenseDto {
            id: r.id,
            license_id: r.license_id,
            type_key: v.type_key,
            type_name: v.type_name,
            holder_kind: r.holder_kind,
            holder_id: r.holder_id,
            holder_name: r.holder_name,
            issuer_dept_id: r.issuer_dept_id,
            claims: serde_json::from_str(&r.claims).unwrap_or(Value::Null),
            version: r.version,
            predecessor_id: r.predecessor_id,
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            status: r.status,
            status_idx: r.status_idx,
            sd_jwt: r.sd_jwt,
            seal: r.seal,
            seal_kid: r.seal_kid,
            created_at: r.created_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub holder_id: Option<String>,
    pub status: Option<String>,
    pub page: Option<u32>,
    pub size: Option<u32>,
}

/// The registry of the caller's departments: holders masked, no claims, no tokens.
#[utoipa::path(get, path = "/api/v1/licenses", tag = "licenses", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Paged<LicenseSummary>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Paged<LicenseSummary>>> {
    let f = LicenseFilter {
        holder_id: q.holder_id,
        status: q.status,
        ..Default::default()
    };
    Ok(Json(Paged::map(
        s.licenses
            .list(&c, f, shuju_store::Page::new(q.page, q.size))
            .await?,
        Into::into,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    pub type_key: String,
    /// A citizen ID (GB 11643) or a USCC (GB 32100), by the type's holder kind.
    pub holder_id: String,
    pub holder_name: String,
    /// Every claim of the type's schema, and no other.
    pub claims: Map<String, Value>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    /// The holder's own public key (P-256 JWK), when the holder keeps its key in a wallet of its
    /// own; omitted: the platform's custodial wallet keeps one for the holder.
    #[schema(value_type = Option<Object>)]
    pub holder_jwk: Option<Value>,
}

/// Issue a license: registered, SD-JWT VC (ES256) and SM2 seal.
#[utoipa::path(post, path = "/api/v1/licenses", tag = "licenses", security(("bearer" = [])), request_body = IssueRequest,
    responses((status = 200, body = LicenseDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn issue(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(r): Json<IssueRequest>,
) -> ApiResult<Json<LicenseDto>> {
    let input = IssueInput {
        type_key: r.type_key,
        holder_id: r.holder_id,
        holder_name: r.holder_name,
        claims: r.claims,
        valid_from: r.valid_from,
        valid_until: r.valid_until,
        holder_jwk: r.holder_jwk,
    };
    Ok(Json(s.licenses.issue(&c, input, None).await?.into()))
}

/// One license in full — claims, SD-JWT, the holder's identifier — to the holder's own account, or
/// to an official of the issuing department's scope who states why (`X-Purpose`); audited.
#[utoipa::path(get, path = "/api/v1/licenses/{id}", tag = "licenses", security(("bearer" = [])),
    params(("id" = i64, Path), ("X-Purpose" = String, Header, description = "why the license is read (officials)")),
    responses((status = 200, body = LicenseDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<LicenseDto>> {
    Ok(Json(s.licenses.get(&c, id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewRequest {
    /// Changed claims (all of them); omitted: the same claims.
    pub claims: Option<Map<String, Value>>,
    pub valid_until: Option<String>,
}

/// Renew or change a license: the next version, linked to its predecessor, which is revoked.
#[utoipa::path(post, path = "/api/v1/licenses/{id}/renew", tag = "licenses", security(("bearer" = [])), params(("id" = i64, Path)), request_body = RenewRequest,
    responses((status = 200, body = LicenseDto), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn renew(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(r): Json<RenewRequest>,
) -> ApiResult<Json<LicenseDto>> {
    Ok(Json(
        s.licenses
            .renew(&c, id, r.claims, r.valid_until)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// revoked | suspended | valid (lifting a suspension; a revocation is final)
    pub status: String,
    pub reason: String,
}

/// Revoke, suspend, or lift a suspension.
#[utoipa::path(post, path = "/api/v1/licenses/{id}/status", tag = "licenses", security(("bearer" = [])), params(("id" = i64, Path)), request_body = StatusRequest,
    responses((status = 200, body = LicenseSummary), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_status(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(r): Json<StatusRequest>,
) -> ApiResult<Json<LicenseSummary>> {
    let to = match r.status.as_str() {
        "revoked" => Status::Revoked,
        "suspended" => Status::Suspended,
        "valid" => Status::Valid,
        _ => {
            return Err(shuju_types::Error::invalid(
                "status",
                "must be revoked, suspended or valid",
            )
            .into());
        }
    };
    Ok(Json(
        s.licenses.set_status(&c, id, to, &r.reason).await?.into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowRequest {
    pub matter: String,
    /// The verifier (audience) the presentation is for.
    pub aud: String,
    /// The verifier's nonce (at least 8 characters).
    pub nonce: String,
}

#[derive(Serialize, ToSchema)]
pub struct ShowView {
    /// SD-JWT presentation with key binding: exactly the matter's claims.
    pub presentation: String,
    pub claims: Vec<String>,
    /// The receipt for the holder's case file, signed on the verifier's side.
    pub receipt: String,
    /// The presentation as a QR code (SVG).
    pub qr_svg: String,
}

/// Show a license for a matter (亮证).
#[utoipa::path(post, path = "/api/v1/licenses/{id}/show", tag = "licenses", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ShowRequest,
    responses((status = 200, body = ShowView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn show(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(r): Json<ShowRequest>,
) -> ApiResult<Json<ShowView>> {
    let shown = s.licenses.show(&c, id, &r.matter, &r.aud, &r.nonce).await?;
    let receipt = s.licenses.receipt(&shown, &r.matter, &r.aud).await?;
    let qr_svg = qrcode::QrCode::with_error_correction_level(
        shown.presentation.as_bytes(),
        qrcode::EcLevel::L,
    )
    .map(|q| {
        q.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(320, 320)
            .build()
    })
    .unwrap_or_default();
    Ok(Json(ShowView {
        presentation: shown.presentation,
        claims: shown.claims,
        receipt,
        qr_svg,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NonceRequest {
    /// The verifier the holder will present to (its name or URI).
    pub aud: String,
}

#[derive(Serialize, ToSchema)]
pub struct NonceView {
    pub nonce: String,
    pub aud: String,
    /// Seconds the nonce waits for a presentation.
    pub expires_in: u64,
}

/// A nonce for a verifier: the holder's presentation is made for it, and it verifies once.
#[utoipa::path(post, path = "/api/v1/licenses/nonces", tag = "licenses", security(("bearer" = [])), request_body = NonceRequest,
    responses((status = 200, body = NonceView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn nonce(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(r): Json<NonceRequest>,
) -> ApiResult<Json<NonceView>> {
    let (nonce, expires_in) = s.licenses.issue_nonce(&c, &r.aud).await?;
    Ok(Json(NonceView {
        nonce,
        aud: r.aud,
        expires_in,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    pub presentation: String,
    pub aud: String,
    pub nonce: String,
}

#[derive(Serialize, ToSchema)]
pub struct VerifiedView {
    pub valid: bool,
    pub license_id: String,
    pub vct: String,
    pub issuer: String,
    pub exp: Option<i64>,
    /// Only the disclosed claims.
    pub claims: Map<String, Value>,
}

/// Verify a shown presentation: signature and trust list, validity, disclosures (RFC 9901), key
/// binding, nonce and audience, status. A refusal says why.
#[utoipa::path(post, path = "/api/v1/licenses/verify", tag = "licenses", request_body = VerifyRequest,
    responses((status = 200, body = VerifiedView), (status = 400, body = ErrorBody)))]
pub async fn verify(
    State(s): State<AppState>,
    Json(r): Json<VerifyRequest>,
) -> ApiResult<Json<VerifiedView>> {
    let v = s.licenses.verify(&r.presentation, &r.aud, &r.nonce).await?;
    Ok(Json(VerifiedView {
        valid: true,
        license_id: v.license_id,
        vct: v.vct,
        issuer: v.issuer,
        exp: v.exp,
        claims: v.claims,
    }))
}

/// The Token Status List (signed JWT, `statuslist+jwt`, with a time to live).
#[utoipa::path(get, path = "/api/v1/licenses/status/1", tag = "licenses",
    responses((status = 200, description = "status list token", content_type = "application/statuslist+jwt")))]
pub async fn status_list(State(s): State<AppState>) -> ApiResult<Response> {
    Ok((
        [(header::CONTENT_TYPE, "application/statuslist+jwt")],
        s.licenses.status_token().await?,
    )
        .into_response())
}

/// The trust list: every issuer key, active or retired, so old licenses still verify. With the
/// status list it is the offline verifier bundle.
#[utoipa::path(get, path = "/api/v1/licenses/trust-list", tag = "licenses", responses((status = 200, body = TrustListView)))]
pub async fn trust_list(State(s): State<AppState>) -> ApiResult<Json<TrustListView>> {
    Ok(Json(trust_view(s.licenses.trust_list().await?)?))
}

/// An issuer key of the trust list.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TrustKeyView {
    pub kid: String,
    /// ES256 or SM2.
    pub alg: String,
    pub iss: String,
    /// A P-256 JWK (ES256, an object), or the SM2 public key in hex (a string).
    #[schema(schema_with = jwk_or_hex)]
    pub public: Value,
    pub created_at: String,
    pub retired_at: Option<String>,
}

/// The trust list: every issuer key, active or retired.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TrustListView {
    pub issuer: String,
    /// Seconds it may be cached.
    pub ttl: i64,
    pub iat: i64,
    pub keys: Vec<TrustKeyView>,
}

/// The offline verifier bundle.
#[derive(Serialize, ToSchema)]
pub struct BundleView {
    pub trust_list: TrustListView,
    /// The signed status list (`statuslist+jwt`).
    pub status_list_token: String,
    pub fetched_at: i64,
    /// After this time (seconds since the epoch) fetch a fresh bundle.
    pub stale_after: i64,
}

fn trust_view(v: Value) -> shuju_types::Result<TrustListView> {
    serde_json::from_value(v).map_err(shuju_types::Error::internal)
}

/// What a bulk issue did.
#[derive(Serialize, ToSchema)]
pub struct BulkView {
    pub type_key: String,
    pub tables: Vec<String>,
    /// Rows read from the sources.
    pub read: u64,
    pub issued: u64,
    /// Rows a license was issued from before.
    pub already: u64,
    /// Rows that issued nothing: `[record key, why]`.
    pub rejected: Vec<[String; 2]>,
}

/// The offline verifier bundle: trust list and signed status list, and when it goes stale.
#[utoipa::path(get, path = "/api/v1/licenses/bundle", tag = "licenses", responses((status = 200, body = BundleView)))]
pub async fn bundle(State(s): State<AppState>) -> ApiResult<Json<BundleView>> {
    let mut b = s.licenses.bundle().await?;
    let num = |b: &Value, k: &str| b[k].as_i64().unwrap_or_default();
    Ok(Json(BundleView {
        status_list_token: b["status_list_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        fetched_at: num(&b, "fetched_at"),
        stale_after: num(&b, "stale_after"),
        trust_list: trust_view(b["trust_list"].take())?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    /// The license type to issue; every lake table that is a source of it is read.
    pub type_key: String,
    /// At most this many new licenses.
    pub limit: Option<u64>,
}

/// Issue licenses in bulk from the lake: each row of the type's source tables not issued from
/// before becomes a license, issued by the department that provides the table. Rows that fail
/// the type's checks are listed with the reason.
#[utoipa::path(post, path = "/api/v1/licenses/bulk", tag = "licenses", security(("bearer" = [])), request_body = BulkBody,
    responses((status = 200, body = BulkView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn issue_bulk(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(b): Json<BulkBody>,
) -> ApiResult<Json<BulkView>> {
    let r = s
        .licenses
        .issue_bulk(&c, &s.lake, &b.type_key, b.limit)
        .await?;
    Ok(Json(BulkView {
        type_key: r.type_key,
        tables: r.tables,
        read: r.read,
        issued: r.issued,
        already: r.already,
        rejected: r.rejected.into_iter().map(|(k, why)| [k, why]).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct WalletView {
    /// The citizen ID or credit code the account speaks for.
    pub holder_id: String,
    pub licenses: Vec<LicenseDto>,
}

/// The caller's own wallet: the licenses of the holder its account is bound to. Showing one
/// is `POST /api/v1/licenses/{id}/show`, as for officials.
#[utoipa::path(get, path = "/api/v1/wallet", tag = "licenses", security(("bearer" = [])),
    responses((status = 200, body = WalletView), (status = 403, body = ErrorBody)))]
pub async fn wallet(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Json<WalletView>> {
    let (holder_id, licenses) = s.licenses.wallet(&c).await?;
    Ok(Json(WalletView {
        holder_id,
        licenses: licenses.into_iter().map(LicenseDto::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindBody {
    /// A citizen ID or a credit code.
    pub holder_id: String,
}

/// Bind an account to the holder it speaks for (a citizen, or an enterprise's agent), after the
/// issuing office has checked who it is.
#[utoipa::path(put, path = "/api/v1/licenses/holders/{user_id}", tag = "licenses", security(("bearer" = [])), params(("user_id" = i64, Path)), request_body = BindBody,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn bind_holder(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(user_id): Path<i64>,
    Json(b): Json<BindBody>,
) -> ApiResult<axum::http::StatusCode> {
    s.licenses.bind_holder(&c, user_id, &b.holder_id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// A JWK object or a hex string.
fn jwk_or_hex() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    utoipa::openapi::schema::Schema::OneOf(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Object))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[0-9a-f]+$")),
            )
            .build(),
    )
}
