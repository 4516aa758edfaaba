//! Login, logout, password change, language switch.

use super::{
    CheckedForm, Flash, FlashQuery, FormPairs, LANG_COOKIE, PageCaller, PageLang, base, render,
    session_cookie, with_cookie,
};
use crate::AppState;
use crate::api::auth::Client;
use crate::extract::Query;
use crate::i18n::{self, Lang};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const PRELOGIN_COOKIE: &str = "shuju_prelogin";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(root))
        .routes(routes!(login_page, login_submit))
        .routes(routes!(password_page, password_submit))
        .routes(routes!(logout))
        .routes(routes!(set_lang))
}

/// The front door: home when signed in, else the login page.
#[utoipa::path(get, path = "/", tag = "pages", responses((status = 303, description = "redirect")))]
pub async fn root() -> Redirect {
    Redirect::to("/home")
}

#[derive(serde::Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
}

/// The login form; `err` is the server's own message (a refused sign-in), never text from the URL.
fn login_form(lang: Lang, next: &str, err: Option<String>, status: StatusCode) -> Response {
    let token = shuju_admin::password::random_token();
    let mut r = render(
        "login.html",
        context! {
            lang => lang.code(),
            other_lang => if lang == Lang::Zh { "en" } else { "zh-CN" },
            csrf => token.clone(),
            next => next,
            flash_err => err,
        },
    );
    *r.status_mut() = status;
    let c = format!("{PRELOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict");
    with_cookie(
        r,
        HeaderValue::from_str(&c).unwrap_or(HeaderValue::from_static("x=y")),
    )
}

/// Where to go after signing in: a page this server serves, else `/home`. The value is checked
/// as it will be followed: a plain ASCII path (no control characters, spaces, backslashes,
/// percent escapes or dot segments, so no browser can read it as another host) that matches a
/// page route, with an optional query of visible characters.
fn safe_next(next: Option<String>) -> String {
    next.filter(|n| is_known_page(n))
        .unwrap_or_else(|| "/home".into())
}

fn is_known_page(n: &str) -> bool {
    let (path, query) = match n.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (n, None),
    };
    let plain_path = path.starts_with('/')
        && !path.starts_with("//")
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b))
        && !path.split('/').any(|seg| seg == "." || seg == "..");
    let plain_query = query.is_none_or(|q| {
        q.bytes()
            .all(|b| b.is_ascii_graphic() && !b"\\#".contains(&b))
    });
    plain_path && plain_query && page_routes().iter().any(|t| route_matches(t, path))
}

/// The GET routes of the pages (`/catalog/entries/{id}`), from the router's own document.
fn page_routes() -> &'static [String] {
    static ROUTES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| {
        crate::openapi_document()
            .paths
            .paths
            .iter()
            .filter(|(p, item)| {
                !p.starts_with("/api/")
                    && !["/login", "/logout"].contains(&p.as_str())
                    && item
                        .get
                        .as_ref()
                        .and_then(|op| op.tags.as_ref())
                        .is_some_and(|t| t.iter().any(|t| t == "pages"))
            })
            .map(|(p, _)| p.clone())
            .collect()
    })
}

/// Does `path` match a route, `{x}` standing for one non-empty segment?
fn route_matches(route: &str, path: &str) -> bool {
    let (mut r, mut p) = (route.split('/'), path.split('/'));
    loop {
        match (r.next(), p.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a.starts_with('{') && a.ends_with('}') && !b.is_empty() => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// The login page.
#[utoipa::path(get, path = "/login", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn login_page(PageLang(lang): PageLang, Query(q): Query<LoginQuery>) -> Response {
    login_form(lang, &safe_next(q.next), None, StatusCode::OK)
}

/// Sign in from the login form; sets the session cookie.
#[utoipa::path(post, path = "/login", tag = "pages",
    responses((status = 303, description = "signed in: redirect"), (status = 401, description = "HTML page with the reason", content_type = "text/html")))]
pub async fn login_submit(
    State(s): State<AppState>,
    PageLang(lang): PageLang,
    Client(client): Client,
    headers: HeaderMap,
    Form(f): Form<FormPairs>,
) -> Response {
    let next = safe_next(f.get("next"));
    let pre = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == PRELOGIN_COOKIE)
        .map(|(_, v)| v.to_owned());
    if pre.is_none() || pre != f.get("_csrf") {
        return login_form(
            lang,
            &next,
            Some(i18n::t(lang, "err_csrf")),
            StatusCode::FORBIDDEN,
        );
    }
    match s
        .admin
        .login(&f.str("username"), &f.str("password"), client.as_deref())
        .await
    {
        Ok(ok) => {
            let to = if ok.must_change_password {
                "/password".to_owned()
            } else {
                next
            };
            let max_age = i64::from(s.admin.config().session_hours) * 3600;
            with_cookie(
                Redirect::to(&to).into_response(),
                session_cookie(&s.cfg, &ok.token, Some(max_age)),
            )
        }
        Err(e) => login_form(
            lang,
            &next,
            Some(crate::i18n::say(lang, &e)),
            crate::error::status_of(e.code),
        ),
    }
}

/// The password change page.
#[utoipa::path(get, path = "/password", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn password_page(pc: PageCaller, Query(q): Query<FlashQuery>) -> Response {
    let flash = Flash::take(&pc, q.flash.as_deref());
    let ctx = context! { must_change => pc.caller.must_change_password, ..base(&pc, "", &flash) };
    render("password.html", ctx)
}

/// Change the password from the form.
#[utoipa::path(post, path = "/password", tag = "pages", responses((status = 303, description = "redirect")))]
pub async fn password_submit(
    State(s): State<AppState>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    if f.get("new_password") != f.get("confirm_password") {
        return super::back(
            &pc,
            "/password",
            None,
            Some(&i18n::t(pc.lang, "passwords_differ")),
        );
    }
    match s
        .admin
        .change_password(&pc.caller, &f.str("old_password"), &f.str("new_password"))
        .await
    {
        Ok(()) => super::back(&pc, "/home", Some("ok_saved"), None),
        Err(e) => super::back(&pc, "/password", None, Some(&e.message)),
    }
}

/// Sign out.
#[utoipa::path(post, path = "/logout", tag = "pages", responses((status = 303, description = "redirect to the login page")))]
pub async fn logout(State(s): State<AppState>, CheckedForm { pc, f: _ }: CheckedForm) -> Response {
    if let Err(e) = s.admin.logout(&pc.caller).await {
        tracing::warn!(error = %e.report(), "logout failed");
    }
    with_cookie(
        Redirect::to("/login").into_response(),
        session_cookie(&s.cfg, "", Some(0)),
    )
}

/// Switch the pages' language (zh-CN or en) and go back.
#[utoipa::path(get, path = "/lang/{code}", tag = "pages", params(("code" = String, Path, description = "zh-CN or en")),
    responses((status = 303, description = "redirect back")))]
pub async fn set_lang(
    axum::extract::Path(code): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::parse(&code).unwrap_or(Lang::Zh);
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        })
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/home".into());
    let c = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    );
    with_cookie(
        Redirect::to(&back).into_response(),
        HeaderValue::from_str(&c).unwrap_or(HeaderValue::from_static("x=y")),
    )
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_known_pages_are_followed_after_login() {
        let next = |s: &str| safe_next(Some(s.to_owned()));
        assert_eq!(next("/catalog"), "/catalog");
        assert_eq!(next("/catalog/entries/12"), "/catalog/entries/12");
        assert_eq!(next("/catalog?mine=1"), "/catalog?mine=1");
        for evil in [
            "/\t/evil.example/phish",
            "/\t/evil.example",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "/%2F%2Fevil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "/../evil",
            "/no-such-page",
            "/catalog/../../evil.example",
            "/catalog?x=\n",
            "evil.example",
            "",
        ] {
            assert_eq!(next(evil), "/home", "{evil:?}");
        }
        assert_eq!(safe_next(None), "/home");
    }
}
