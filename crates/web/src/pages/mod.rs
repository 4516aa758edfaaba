//! Server-rendered pages in the layout Chinese government admin software uses: a top bar, a menu on
//! the left filtered by the caller's permissions, a department tree and a search form with a paged
//! table. zh-CN by default, English by the switch.
//!
//! Pages use the browser session cookie. Every form carries the session's CSRF token, checked on
//! each POST. Handlers stay thin: they call `shuju_admin` and render a template.

mod admin;
mod auth;
mod catalog;
mod elements;
mod exchange;
mod flash;
mod home;
mod lake;
mod licenses;
mod logs;
mod persons;
mod service;

use crate::extract::{SESSION_COOKIE, client_addr, cookie};
use crate::i18n::{self, Lang};
use crate::{AppState, WebConfig};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Environment, State as JState, Value, context};
use serde::Serialize;
use shuju_admin::{Caller, perm};
use std::sync::OnceLock;
use utoipa_axum::router::OpenApiRouter;

pub const LANG_COOKIE: &str = "shuju_lang";

pub fn routes(cfg: &WebConfig) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::routes())
        .merge(home::routes())
        .merge(admin::routes(cfg))
        .merge(catalog::routes(cfg))
        .merge(licenses::routes())
        .merge(exchange::routes())
        .merge(service::routes())
        .merge(lake::routes(cfg))
        .merge(persons::routes())
        .merge(elements::routes())
        .merge(logs::routes())
        .merge(crate::assets::routes())
}

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("tree.html", include_str!("../../templates/tree.html")),
    ("login.html", include_str!("../../templates/login.html")),
    (
        "password.html",
        include_str!("../../templates/password.html"),
    ),
    ("home.html", include_str!("../../templates/home.html")),
    ("depts.html", include_str!("../../templates/depts.html")),
    ("users.html", include_str!("../../templates/users.html")),
    ("roles.html", include_str!("../../templates/roles.html")),
    ("dicts.html", include_str!("../../templates/dicts.html")),
    ("dict.html", include_str!("../../templates/dict.html")),
    ("operlog.html", include_str!("../../templates/operlog.html")),
    (
        "logininfor.html",
        include_str!("../../templates/logininfor.html"),
    ),
    ("error.html", include_str!("../../templates/error.html")),
    ("catalog.html", include_str!("../../templates/catalog.html")),
    ("case.html", include_str!("../../templates/case.html")),
    (
        "licenses.html",
        include_str!("../../templates/licenses.html"),
    ),
    ("lake.html", include_str!("../../templates/lake.html")),
    (
        "lake_table.html",
        include_str!("../../templates/lake_table.html"),
    ),
    (
        "lake_sql.html",
        include_str!("../../templates/lake_sql.html"),
    ),
    ("persons.html", include_str!("../../templates/persons.html")),
    ("person.html", include_str!("../../templates/person.html")),
    (
        "person_reviews.html",
        include_str!("../../templates/person_reviews.html"),
    ),
    (
        "person_check.html",
        include_str!("../../templates/person_check.html"),
    ),
    ("rules.html", include_str!("../../templates/rules.html")),
    (
        "elements.html",
        include_str!("../../templates/elements.html"),
    ),
    ("facts.html", include_str!("../../templates/facts.html")),
    (
        "enterprises.html",
        include_str!("../../templates/enterprises.html"),
    ),
    (
        "enterprise.html",
        include_str!("../../templates/enterprise.html"),
    ),
    ("fact.html", include_str!("../../templates/fact.html")),
    (
        "licences_held.html",
        include_str!("../../templates/licences_held.html"),
    ),
    (
        "data_use.html",
        include_str!("../../templates/data_use.html"),
    ),
    ("receipt.html", include_str!("../../templates/receipt.html")),
    ("kiosk.html", include_str!("../../templates/kiosk.html")),
    ("usage.html", include_str!("../../templates/usage.html")),
    ("wallet.html", include_str!("../../templates/wallet.html")),
    ("rule.html", include_str!("../../templates/rule.html")),
    (
        "exchange.html",
        include_str!("../../templates/exchange.html"),
    ),
    (
        "projects.html",
        include_str!("../../templates/projects.html"),
    ),
    ("license.html", include_str!("../../templates/license.html")),
    (
        "license_show.html",
        include_str!("../../templates/license_show.html"),
    ),
    (
        "license_verify.html",
        include_str!("../../templates/license_verify.html"),
    ),
    (
        "catalog_entry.html",
        include_str!("../../templates/catalog_entry.html"),
    ),
    (
        "catalog_form.html",
        include_str!("../../templates/catalog_form.html"),
    ),
    (
        "catalog_item_row.html",
        include_str!("../../templates/catalog_item_row.html"),
    ),
    (
        "catalog_import.html",
        include_str!("../../templates/catalog_import.html"),
    ),
    (
        "catalog_review.html",
        include_str!("../../templates/catalog_review.html"),
    ),
    (
        "catalog_corrections.html",
        include_str!("../../templates/catalog_corrections.html"),
    ),
    (
        "catalog_systems.html",
        include_str!("../../templates/catalog_systems.html"),
    ),
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in TEMPLATES {
            if let Err(e) = env.add_template(name, src) {
                tracing::error!(template = name, error = %e, "template does not compile");
            }
        }
        env.add_filter("dt", local_time);
        // A message of the Rust layer (a reason, a comparison level), in the page's language.
        env.add_filter("say", |state: &JState, text: &str| {
            i18n::text(page_lang(state), text)
        });
        env.add_function("t", |state: &JState, key: &str| {
            i18n::t(page_lang(state), key)
        });
        env
    })
}

/// The language of the page being drawn (its context's `lang`); Chinese when none.
fn page_lang(state: &JState) -> Lang {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or(Lang::Zh)
}

/// Stored times are UTC; officials read Beijing time (UTC+8): `2026-11-28 05:22[:13]`.
fn local_time(v: &str, seconds: Option<bool>) -> String {
    let fmt = if seconds.unwrap_or(false) {
        "%Y-%m-%d %H:%M:%S"
    } else {
        "%Y-%m-%d %H:%M"
    };
    match (
        shuju_store::parse_time(v),
        chrono::FixedOffset::east_opt(8 * 3600),
    ) {
        (Some(t), Some(cst)) => t.with_timezone(&cst).format(fmt).to_string(),
        _ => v.to_owned(),
    }
}

/// Render a template; a template error is logged and shown as a plain 500.
pub fn render(name: &str, ctx: Value) -> Response {
    match env().get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(template = name, error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// An error as a page in the reader's language: what went wrong, why (the message of the Rust
/// layer, translated), what to do next, and the request id to quote.
pub fn error_page(lang: Lang, status: StatusCode, code: &str, message: &str, id: &str) -> Response {
    let mut r = render(
        "error.html",
        context! {
            lang => lang.code(),
            other_lang => if lang == Lang::Zh { "en" } else { "zh-CN" },
            status => status.as_u16(),
            code => code,
            message => i18n::text(lang, message),
            request_id => id,
        },
    );
    if r.status().is_success() {
        *r.status_mut() = status;
    }
    r
}

pub fn lang_of(parts: &Parts) -> Lang {
    lang_in(&parts.headers)
}

/// The language the `lang` cookie in these headers chose; Chinese when none.
pub fn lang_in(headers: &HeaderMap) -> Lang {
    crate::extract::cookie_in(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .unwrap_or(Lang::Zh)
}

/// The page's language, as an extractor.
pub struct PageLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for PageLang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PageLang(lang_of(parts)))
    }
}

/// The signed-in caller of a page; otherwise a redirect to the login page.
pub struct PageCaller {
    pub caller: Caller,
    pub lang: Lang,
}

impl FromRequestParts<AppState> for PageCaller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let lang = lang_of(parts);
        let path = parts.uri.path().to_owned();
        let to_login = || {
            let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
            Redirect::to(&format!("/login?next={next}")).into_response()
        };
        let Some(token) = cookie(parts, SESSION_COOKIE) else {
            return Err(to_login());
        };
        let caller = match state.admin.authenticate(token, client_addr(parts)).await {
            Ok(c) => c,
            Err(_) => return Err(to_login()),
        };
        if caller.must_change_password && path != "/password" && path != "/logout" {
            return Err(Redirect::to("/password").into_response());
        }
        Ok(PageCaller { caller, lang })
    }
}

#[derive(Serialize)]
struct MenuItem {
    key: &'static str,
    href: &'static str,
}

#[derive(Serialize)]
struct MenuGroup {
    key: &'static str,
    items: Vec<MenuItem>,
}

/// A menu entry: message key, link, the permission that shows it.
type MenuEntry = (&'static str, &'static str, Option<&'static str>);

fn menu(c: &Caller) -> Vec<MenuGroup> {
    let groups: [(&str, &[MenuEntry]); 9] = [
        ("home", &[("home", "/home", None)]),
        (
            "catalog_group",
            &[
                ("catalog", "/catalog", Some(perm::CATALOG_LIST)),
                ("catalog_mine", "/catalog?mine=1", Some(perm::CATALOG_ADD)),
                (
                    "catalog_review",
                    "/catalog/review",
                    Some(perm::CATALOG_REVIEW),
                ),
                (
                    "catalog_corrections",
                    "/catalog/corrections",
                    Some(perm::CATALOG_LIST),
                ),
                (
                    "catalog_systems",
                    "/catalog/systems",
                    Some(perm::SYSTEM_LIST),
                ),
                ("elements", "/elements", Some(perm::CATALOG_LIST)),
            ],
        ),
        (
            "lake_group",
            &[
                ("lake", "/lake", Some(perm::LAKE_LIST)),
                ("lake_sql", "/lake/sql", Some(perm::LAKE_QUERY)),
            ],
        ),
        (
            "identity_group",
            &[
                ("persons", "/persons", Some(perm::IDENTITY_VIEW)),
                (
                    "person_reviews",
                    "/persons/reviews",
                    Some(perm::IDENTITY_REVIEW),
                ),
                ("enterprises", "/enterprises", Some(perm::IDENTITY_VIEW)),
                ("rules", "/rules", Some(perm::IDENTITY_VIEW)),
                ("facts", "/facts", Some(perm::IDENTITY_VIEW)),
            ],
        ),
        (
            "exchange_group",
            &[
                ("exchange", "/exchange", Some(perm::EXCHANGE_LIST)),
                ("projects", "/projects", Some(perm::PROJECT_LIST)),
                ("data_use", "/data-use", Some(perm::DATA_USE_VIEW)),
                ("usage", "/exchange/usage", Some(perm::USAGE_VIEW)),
            ],
        ),
        (
            "service_group",
            &[("kiosk", "/kiosk", Some(perm::SERVICE_INTAKE))],
        ),
        (
            "license_group",
            &[
                ("licenses", "/licenses", Some(perm::LICENSE_LIST)),
                ("wallet", "/wallet", Some(perm::WALLET)),
                (
                    "license_verify",
                    "/licenses/verify",
                    Some(perm::LICENSE_VERIFY),
                ),
            ],
        ),
        (
            "system",
            &[
                ("depts", "/system/depts", Some(perm::DEPT_LIST)),
                ("users", "/system/users", Some(perm::USER_LIST)),
                ("roles", "/system/roles", Some(perm::ROLE_LIST)),
                ("dicts", "/system/dicts", Some(perm::DICT_LIST)),
                ("api_docs", "/api/docs", None),
            ],
        ),
        (
            "monitor",
            &[
                ("operlog", "/monitor/operlog", Some(perm::OPERLOG_LIST)),
                (
                    "logininfor",
                    "/monitor/logininfor",
                    Some(perm::LOGININFOR_LIST),
                ),
            ],
        ),
    ];
    groups
        .iter()
        .map(|(key, items)| MenuGroup {
            key,
            items: items
                .iter()
                .filter(|(_, _, p)| p.is_none_or(|p| c.can(p)))
                .map(|(key, href, _)| MenuItem { key, href })
                .collect(),
        })
        .filter(|g| !g.items.is_empty())
        .collect()
}

#[derive(Serialize)]
struct Me {
    username: String,
    display_name: String,
}

/// The messages a page shows at its top: what was saved, or why something was refused. Made by
/// the server (a form's outcome, kept across the redirect by [`flash`]), never read from the URL.
#[derive(Clone, Debug, Default)]
pub struct Flash {
    pub ok: Option<String>,
    pub err: Option<String>,
}

impl Flash {
    /// The message a redirect left for this session (`?flash=<key>`), once.
    pub fn take(pc: &PageCaller, key: Option<&str>) -> Flash {
        flash::take(pc, key)
    }

    pub fn err(text: impl Into<String>) -> Flash {
        Flash {
            ok: None,
            err: Some(text.into()),
        }
    }
}

/// The query of a page that only shows what a redirect left.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct FlashQuery {
    pub flash: Option<String>,
}

/// The context every signed-in page has.
pub fn base(pc: &PageCaller, active: &str, flash: &Flash) -> Value {
    let c = &pc.caller;
    context! {
        lang => pc.lang.code(),
        other_lang => if pc.lang == Lang::Zh { "en" } else { "zh-CN" },
        me => Me { username: c.username.clone(), display_name: c.display_name.clone() },
        csrf => c.csrf_token.clone().unwrap_or_default(),
        menu => menu(c),
        active => active,
        flash_ok => flash.ok.clone(),
        flash_err => flash.err.clone(),
    }
}

/// Redirect back to `to` with a message for the next page: `ok` a message key (or a sentence the
/// server composed), `err` why it was refused, in the page's language ([`i18n::text`]). The text
/// stays on the server ([`flash`]).
pub fn back(pc: &PageCaller, to: &str, ok: Option<&str>, err: Option<&str>) -> Response {
    let f = match (ok, err) {
        (_, Some(e)) => Flash::err(i18n::text(pc.lang, e)),
        (Some(k), None) => Flash {
            ok: Some(i18n::t(pc.lang, k)),
            err: None,
        },
        _ => return Redirect::to(to).into_response(),
    };
    let key = flash::put(pc, f);
    let sep = if to.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{to}{sep}flash={key}")).into_response()
}

/// Form fields as pairs, so repeated keys (checkboxes) survive.
#[derive(serde::Deserialize)]
#[serde(transparent)]
pub struct FormPairs(pub Vec<(String, String)>);

impl utoipa::PartialSchema for FormPairs {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .description(Some("the form's fields, including _csrf"))
            .into()
    }
}

impl utoipa::ToSchema for FormPairs {}

impl FormPairs {
    pub fn get(&self, k: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.trim().is_empty())
    }

    pub fn str(&self, k: &str) -> String {
        self.get(k).unwrap_or_default()
    }

    pub fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(a, _)| a == k)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn i64(&self, k: &str) -> Option<i64> {
        self.get(k).and_then(|v| v.trim().parse().ok())
    }

    /// The form's CSRF token matches the session's.
    pub fn csrf_ok(&self, c: &Caller) -> bool {
        let sent = self.get("_csrf");
        sent.is_some() && sent == c.csrf_token
    }
}

/// A submitted form of a signed-in user whose CSRF token matched the session's: every page form
/// handler takes its caller and fields through this, so none can forget the check.
pub struct CheckedForm {
    pub pc: PageCaller,
    pub f: FormPairs,
}

impl axum::extract::FromRequest<AppState> for CheckedForm {
    type Rejection = Response;

    async fn from_request(
        req: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let pc = PageCaller::from_request_parts(&mut parts, state).await?;
        let req = axum::extract::Request::from_parts(parts, body);
        let axum::Form(f) = axum::Form::<FormPairs>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if !f.csrf_ok(&pc.caller) {
            return Err(csrf_refused());
        }
        Ok(CheckedForm { pc, f })
    }
}

/// After a form: back to `ok_to` with a message key, or to `err_to` with the refusal.
pub fn after<T>(
    pc: &PageCaller,
    r: shuju_types::Result<T>,
    ok_to: &str,
    ok_key: &str,
    err_to: &str,
) -> Response {
    match r {
        Ok(_) => back(pc, ok_to, Some(ok_key), None),
        Err(e) => back(pc, err_to, None, Some(&e.message)),
    }
}

/// A page from its context, or the error that kept it from being made.
pub fn page(name: &str, ctx: shuju_types::Result<Value>) -> Response {
    match ctx {
        Ok(ctx) => render(name, ctx),
        Err(e) => page_error(e),
    }
}

/// A domain error on a page, in the one error body.
/// A part of a page the caller may not read shows nothing; any other failure fails the page (a
/// database outage is not an empty list).
pub fn unless_denied<T: Default>(r: shuju_types::Result<T>) -> shuju_types::Result<T> {
    match r {
        Err(e) if e.code == shuju_types::ErrorCode::PermissionDenied => Ok(T::default()),
        r => r,
    }
}

pub fn page_error(e: shuju_types::Error) -> Response {
    crate::error::ApiError(e).into_response()
}

pub fn csrf_refused() -> Response {
    page_error(shuju_types::Error::forbidden(
        "the form's security token is missing or out of date: reload the page and try again",
    ))
}

/// A session cookie: HttpOnly, SameSite=Lax, Secure when configured.
pub fn session_cookie(cfg: &WebConfig, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    if cfg.secure_cookies {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or(HeaderValue::from_static("shuju_session=; Path=/"))
}

pub fn with_cookie(mut r: Response, cookie: HeaderValue) -> Response {
    r.headers_mut().append(header::SET_COOKIE, cookie);
    r
}

#[cfg(test)]
mod tests {
    /// A template file that is not registered renders as an internal error: every file in
    /// `templates/` must be in [`super::TEMPLATES`], and compile.
    #[test]
    fn every_template_file_is_registered_and_compiles() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        for f in std::fs::read_dir(dir).unwrap() {
            let name = f.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                super::TEMPLATES.iter().any(|(n, _)| *n == name),
                "{name} is not in TEMPLATES"
            );
        }
        let mut env = minijinja::Environment::new();
        for (name, src) in super::TEMPLATES {
            env.add_template(name, src)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
