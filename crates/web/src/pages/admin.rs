//! Departments, users, roles and dictionaries pages.

use super::{
    CheckedForm, Flash, FormPairs, PageCaller, after, back, base, csrf_refused, page, page_error,
    render,
};
use crate::api::departments::{DepartmentView, ImportView, TreeNode, read_upload};
use crate::extract::{Path, Query};
use crate::{AppState, WebConfig};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::response::Response;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use shuju_admin::departments::DepartmentInput;
use shuju_admin::roles::RoleInput;
use shuju_admin::users::UserFilter;
use shuju_admin::users::UserInput;
use shuju_admin::{Caller, perm};
use shuju_types::Result;
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes(cfg: &WebConfig) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(depts_page, dept_create))
        .routes(routes!(dept_update))
        .routes(routes!(dept_delete))
        .routes(routes!(users_page, user_create))
        .routes(routes!(user_update))
        .routes(routes!(user_delete))
        .routes(routes!(user_reset))
        .routes(routes!(roles_page, role_create))
        .routes(routes!(role_delete))
        .routes(routes!(dicts_page, dict_create))
        .routes(routes!(dict_page))
        .routes(routes!(dict_delete))
        .routes(routes!(dict_item_create))
        .routes(routes!(dict_item_delete))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(dept_import))
                .layer(DefaultBodyLimit::max(cfg.upload_limit)),
        )
}

/// Query parameters of the list pages (flash messages and paging included).
#[derive(Deserialize, Serialize, Default)]
#[serde(default)]
pub struct ListQuery {
    name: Option<String>,
    username: Option<String>,
    display_name: Option<String>,
    status: Option<String>,
    under: Option<i64>,
    edit: Option<i64>,
    page: Option<u32>,
    size: Option<u32>,
    flash: Option<String>,
    pw: Option<String>,
}

impl ListQuery {
    fn flash(&self, pc: &PageCaller) -> Flash {
        Flash::take(pc, self.flash.as_deref())
    }

    /// The list URL with the current filters, ready for `page=`.
    fn pager_base(&self, path: &str) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("name", &self.name),
            ("username", &self.username),
            ("display_name", &self.display_name),
            ("status", &self.status),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                s.append_pair(k, v);
            }
        }
        if let Some(u) = self.under {
            s.append_pair("under", &u.to_string());
        }
        let q = s.finish();
        if q.is_empty() {
            format!("{path}?")
        } else {
            format!("{path}?{q}&")
        }
    }
}

#[derive(Serialize)]
struct Option2 {
    label: String,
    value: String,
}

async fn dict_options(s: &AppState, key: &str) -> Result<Vec<Option2>> {
    let (_, items) = s.admin.dict_items_by_key(key).await?;
    Ok(items
        .into_iter()
        .filter(|i| i.status == "active")
        .map(|i| Option2 {
            label: i.label,
            value: i.value,
        })
        .collect())
}

async fn tree_nodes(s: &AppState, c: &Caller) -> Result<Vec<TreeNode>> {
    Ok(s.admin
        .department_tree(c)
        .await?
        .into_iter()
        .map(|(depth, d)| TreeNode {
            id: d.id,
            parent_id: d.parent_id,
            name: d.name,
            depth,
        })
        .collect())
}

// ---------------------------------------------------------------- departments

fn dept_input(f: &FormPairs) -> DepartmentInput {
    DepartmentInput {
        parent_id: f.i64("parent_id"),
        name: f.str("name"),
        short_code: f.get("short_code"),
        division_code: f.str("division_code"),
        uscc: f.get("uscc"),
        leader: f.get("leader"),
        contact: f.get("contact"),
        status: f.get("status"),
        sort_order: f.i64("sort_order"),
    }
}

async fn depts_ctx(
    s: &AppState,
    pc: &PageCaller,
    q: &ListQuery,
    report: Option<ImportView>,
) -> Result<Value> {
    let c = &pc.caller;
    let page = s
        .admin
        .list_departments(
            c,
            q.name.clone(),
            q.status.clone(),
            q.under,
            shuju_store::Page::new(q.page, q.size),
        )
        .await?;
    let editing = match q.edit {
        Some(id) if c.can(perm::DEPT_EDIT) => {
            Some(DepartmentView::from(s.admin.get_department(c, id).await?))
        }
        _ => None,
    };
    let divisions = if c.can(perm::DIVISION_LIST) {
        s.admin.list_divisions(c, false).await?
    } else {
        s.admin.divisions_in_force().await?
    };
    Ok(context! {
        page => crate::api::Paged::map(page, DepartmentView::from),
        tree => tree_nodes(s, c).await?,
        under => q.under,
        q => q,
        editing => editing,
        divisions => divisions,
        statuses => dict_options(s, "sys_normal_disable").await?,
        import_report => report,
        pager_base => q.pager_base("/system/depts"),
        can => context! {
            add => c.can(perm::DEPT_ADD), edit => c.can(perm::DEPT_EDIT), remove => c.can(perm::DEPT_REMOVE),
            import => c.can(perm::DEPT_IMPORT), export => c.can(perm::DEPT_EXPORT),
        },
        ..base(pc, "depts", &q.flash(pc))
    })
}

/// Departments: the tree on the left, a search form and a paged table, add/edit/import forms.
#[utoipa::path(get, path = "/system/depts", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn depts_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<ListQuery>,
) -> Response {
    page("depts.html", depts_ctx(&s, &pc, &q, None).await)
}

/// Create a department from the form.
#[utoipa::path(post, path = "/system/depts", tag = "pages", responses((status = 303, description = "redirect")))]
pub async fn dept_create(
    State(s): State<AppState>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    after(
        &pc,
        s.admin.create_department(&pc.caller, dept_input(&f)).await,
        "/system/depts",
        "ok_saved",
        "/system/depts",
    )
}

/// Update a department from the form.
#[utoipa::path(post, path = "/system/depts/{id}", tag = "pages", params(("id" = i64, Path)), responses((status = 303, description = "redirect")))]
pub async fn dept_update(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    after(
        &pc,
        s.admin
            .update_department(&pc.caller, id, dept_input(&f))
            .await,
        "/system/depts",
        "ok_saved",
        &format!("/system/depts?edit={id}"),
    )
}

/// Remove a department.
#[utoipa::path(post, path = "/system/depts/{id}/delete", tag = "pages", params(("id" = i64, Path)), responses((status = 303, description = "redirect")))]
pub async fn dept_delete(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    CheckedForm { pc, f: _ }: CheckedForm,
) -> Response {
    after(
        &pc,
        s.admin.delete_department(&pc.caller, id).await,
        "/system/depts",
        "ok_deleted",
        "/system/depts",
    )
}

/// Import departments from an uploaded workbook; the page shows each bad row.
#[utoipa::path(post, path = "/system/depts/import", tag = "pages", responses((status = 200, description = "HTML page with the import report", content_type = "text/html")))]
pub async fn dept_import(State(s): State<AppState>, pc: PageCaller, m: Multipart) -> Response {
    let up = match read_upload(m).await {
        Ok(v) => v,
        Err(e) => return back(&pc, "/system/depts", None, Some(&e.0.message)),
    };
    if !up.csrf_ok(&pc.caller) {
        return csrf_refused();
    }
    let report = match s
        .admin
        .import_departments(&pc.caller, &up.file, up.flag("partial"))
        .await
    {
        Ok(r) => r,
        Err(e) => return back(&pc, "/system/depts", None, Some(&e.message)),
    };
    match depts_ctx(&s, &pc, &ListQuery::default(), Some(report.into())).await {
        Ok(ctx) => render("depts.html", ctx),
        Err(e) => page_error(e),
    }
}

// ---------------------------------------------------------------- users

fn user_input(f: &FormPairs) -> UserInput {
    UserInput {
        username: f.str("username"),
        display_name: f.str("display_name"),
        dept_id: f.i64("dept_id").unwrap_or(0),
        phone: f.get("phone"),
        email: f.get("email"),
        status: f.get("status"),
        role_ids: f
            .all("role_ids")
            .iter()
            .filter_map(|v| v.parse().ok())
            .collect(),
        password: None,
        must_change_password: None,
    }
}

async fn users_ctx(s: &AppState, pc: &PageCaller, q: &ListQuery) -> Result<Value> {
    let c = &pc.caller;
    let filter = UserFilter {
        username: q.username.clone(),
        display_name: q.display_name.clone(),
        status: q.status.clone(),
        ..Default::default()
    };
    let page = s
        .admin
        .list_users(c, filter, q.under, shuju_store::Page::new(q.page, q.size))
        .await?;
    let tree = tree_nodes(s, c).await?;
    let dept_names: BTreeMap<String, String> = tree
        .iter()
        .map(|n| (n.id.to_string(), n.name.clone()))
        .collect();
    let (editing, editing_roles) = match q.edit {
        Some(id) if c.can(perm::USER_EDIT) => {
            let v = s.admin.get_user(c, id).await?;
            (Some(crate::api::users::UserView::from(v.user)), v.role_ids)
        }
        _ => (None, vec![]),
    };
    let roles = if c.can(perm::ROLE_LIST) {
        s.admin
            .list_roles(c, None, shuju_store::Page::new(Some(1), Some(200)))
            .await?
            .items
    } else {
        vec![]
    };
    Ok(context! {
        page => crate::api::Paged::map(page, crate::api::users::UserView::from),
        tree => tree,
        dept_names => dept_names,
        under => q.under,
        q => q,
        editing => editing,
        editing_roles => editing_roles,
        roles => roles.into_iter().map(crate::api::roles::RoleView::from).collect::<Vec<_>>(),
        statuses => dict_options(s, "sys_normal_disable").await?,
        new_password => q.pw.clone(),
        pager_base => q.pager_base("/system/users"),
        can => context! {
            add => c.can(perm::USER_ADD), edit => c.can(perm::USER_EDIT), remove => c.can(perm::USER_REMOVE),
            reset => c.can(perm::USER_RESET_PWD),
        },
        ..base(pc, "users", &q.flash(pc))
    })
}

/// Users: the department tree, a search form and a paged table (phones masked).
#[utoipa::path(get, path = "/system/users", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn users_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<ListQuery>,
) -> Response {
    page("users.html", users_ctx(&s, &pc, &q).await)
}

fn with_password(pw: &str) -> String {
    let enc: String = url::form_urlencoded::byte_serialize(pw.as_bytes()).collect();
    format!("/system/users?pw={enc}")
}

/// Create a user from the form; the initial password is shown once.
#[utoipa::path(post, path = "/system/users", tag = "pages", responses((status = 303, description = "redirect")))]
pub async fn user_create(
    State(s): State<AppState>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    match s.admin.create_user(&pc.caller, user_input(&f)).await {
        Ok(u) => back(
            &pc,
            &with_password(&u.initial_password.unwrap_or_default()),
            Some("ok_saved"),
            None,
        ),
        Err(e) => back(&pc, "/system/users", None, Some(&e.message)),
    }
}

/// Update a user from the form.
#[utoipa::path(post, path = "/system/users/{id}", tag = "pages", params(("id" = i64, Path)), responses((status = 303, description = "redirect")))]
pub async fn user_update(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    after(
        &pc,
        s.admin.update_user(&pc.caller, id, user_input(&f)).await,
        "/system/users",
        "ok_saved",
        &format!("/system/users?edit={id}"),
    )
}

/// Remove a user.
#[utoipa::path(post, path = "/system/users/{id}/delete", tag = "pages", params(("id" = i64, Path)), responses((status = 303, description = "redirect")))]
pub async fn user_delete(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    CheckedForm { pc, f: _ }: CheckedForm,
) -> Response {
    after(
        &pc,
        s.admin.delete_user(&pc.caller, id).await,
        "/system/users",
        "ok_deleted",
        "/system/users",
    )
}

/// Reset a user's password; the new one is shown once.
#[utoipa::path(post, path = "/system/users/{id}/reset", tag = "pages", params(("id" = i64, Path)), responses((status = 303, description = "redirect")))]
pub async fn user_reset(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    CheckedForm { pc, f: _ }: CheckedForm,
) -> Response {
    match s.admin.reset_password(&pc.caller, id).await {
        Ok(pw) => back(&pc, &with_password(&pw), Some("ok_saved"), None),
        Err(e) => back(&pc, "/system/users", None, Some(&e.message)),
    }
}

// ---------------------------------------------------------------- roles

async fn roles_ctx(s: &AppState, pc: &PageCaller, q: &ListQuery) -> Result<Value> {
    let c = &pc.caller;
    let page = s
        .admin
        .list_roles(c, q.name.as_deref(), shuju_store::Page::new(q.page, q.size))
        .await?;
    let mut roles = Vec::new();
    for r in &page.items {
        roles.push(crate::api::roles::RoleView::from(
            s.admin.get_role(c, r.id).await?,
        ));
    }
    let scopes = dict_options(s, "sys_data_scope").await?;
    let scope_labels: BTreeMap<String, String> = scopes
        .iter()
        .map(|o| (o.value.clone(), o.label.clone()))
        .collect();
    Ok(context! {
        roles => roles,
        page => crate::api::Paged::map(page, |_| ()),
        scopes => scopes,
        scope_labels => scope_labels,
        tree => tree_nodes(s, c).await?,
        catalogue => perm::CATALOGUE,
        q => q,
        pager_base => q.pager_base("/system/roles"),
        can => context! { add => c.can(perm::ROLE_ADD), remove => c.can(perm::ROLE_REMOVE) },
        ..base(pc, "roles", &q.flash(pc))
    })
}

/// Roles with their permissions and data scopes.
#[utoipa::path(get, path = "/system/roles", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn roles_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<ListQuery>,
) -> Response {
    page("roles.html", roles_ctx(&s, &pc, &q).await)
}

/// Create a role from the form.
#[utoipa::path(post, path = "/system/roles", tag = "pages", responses((status = 303, description = "redirect")))]
pub async fn role_create(
    State(s): State<AppState>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let input = RoleInput {
        role_key: f.str("role_key"),
        name: f.str("name"),
        data_scope: f.str("data_scope"),
        dept_ids: f
            .all("dept_ids")
            .iter()
            .filter_map(|v| v.parse().ok())
            .collect(),
        permissions: f.all("permissions"),
        status: f.get("status"),
        sort_order: f.i64("sort_order"),
        remark: f.get("remark"),
    };
    after(
        &pc,
        s.admin.create_role(&pc.caller, input).await,
        "/system/roles",
        "ok_saved",
        "/system/roles",
    )
}

/// Remove a role.
#[utoipa::path(post, path = "/system/roles/{id}/delete", tag = "pages", params(("id" = i64, Path)), responses((status = 303, description = "redirect")))]
pub async fn role_delete(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    CheckedForm { pc, f: _ }: CheckedForm,
) -> Response {
    after(
        &pc,
        s.admin.delete_role(&pc.caller, id).await,
        "/system/roles",
        "ok_deleted",
        "/system/roles",
    )
}

// ---------------------------------------------------------------- dictionaries

/// Dictionary types.
#[utoipa::path(get, path = "/system/dicts", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn dicts_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<ListQuery>,
) -> Response {
    let c = &pc.caller;
    match s
        .admin
        .list_dict_types(c, q.name.as_deref(), shuju_store::Page::new(q.page, q.size))
        .await
    {
        Ok(page) => render(
            "dicts.html",
            context! {
                page => crate::api::Paged::map(page, crate::api::dicts::DictTypeView::from),
                q => &q,
                pager_base => q.pager_base("/system/dicts"),
                can => context! { add => c.can(perm::DICT_ADD), remove => c.can(perm::DICT_REMOVE) },
                ..base(&pc, "dicts", &q.flash(&pc))
            },
        ),
        Err(e) => page_error(e),
    }
}

/// Create a dictionary type from the form.
#[utoipa::path(post, path = "/system/dicts", tag = "pages", responses((status = 303, description = "redirect")))]
pub async fn dict_create(
    State(s): State<AppState>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let fields = shuju_admin::dicts::validate_type(
        &f.str("type_key"),
        &f.str("name"),
        f.get("status"),
        f.get("remark"),
    );
    match s.admin.create_dict_type(&pc.caller, fields).await {
        Ok(t) => back(
            &pc,
            &format!("/system/dicts/{}", t.id),
            Some("ok_saved"),
            None,
        ),
        Err(e) => back(&pc, "/system/dicts", None, Some(&e.message)),
    }
}

/// One dictionary and its items.
#[utoipa::path(get, path = "/system/dicts/{id}", tag = "pages", params(("id" = i64, Path)), responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn dict_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Response {
    let c = &pc.caller;
    match s.admin.dict_type(c, id).await {
        Ok((t, items)) => render(
            "dict.html",
            context! {
                dict => crate::api::dicts::DictTypeView::from(t),
                items => items.into_iter().map(crate::api::dicts::DictItemView::from).collect::<Vec<_>>(),
                colours => shuju_admin::dicts::COLOURS,
                can => context! { add => c.can(perm::DICT_ADD), remove => c.can(perm::DICT_REMOVE) },
                ..base(&pc, "dicts", &q.flash(&pc))
            },
        ),
        Err(e) => page_error(e),
    }
}

/// Remove a dictionary type.
#[utoipa::path(post, path = "/system/dicts/{id}/delete", tag = "pages", params(("id" = i64, Path)), responses((status = 303, description = "redirect")))]
pub async fn dict_delete(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    CheckedForm { pc, f: _ }: CheckedForm,
) -> Response {
    after(
        &pc,
        s.admin.delete_dict_type(&pc.caller, id).await,
        "/system/dicts",
        "ok_deleted",
        "/system/dicts",
    )
}

/// Add an item to a dictionary from the form.
#[utoipa::path(post, path = "/system/dicts/{id}/items", tag = "pages", params(("id" = i64, Path)), responses((status = 303, description = "redirect")))]
pub async fn dict_item_create(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let fields = shuju_admin::dicts::validate_item(
        &f.str("label"),
        &f.str("value"),
        f.i64("sort_order"),
        f.get("color"),
        f.get("status"),
    );
    let to = format!("/system/dicts/{id}");
    after(
        &pc,
        s.admin.create_dict_item(&pc.caller, id, fields).await,
        &to,
        "ok_saved",
        &to,
    )
}

/// Remove a dictionary item.
#[utoipa::path(post, path = "/system/dict-items/{id}/delete", tag = "pages", params(("id" = i64, Path)), responses((status = 303, description = "redirect")))]
pub async fn dict_item_delete(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let to = f.i64("back").map_or_else(
        || "/system/dicts".to_owned(),
        |b| format!("/system/dicts/{b}"),
    );
    after(
        &pc,
        s.admin.delete_dict_item(&pc.caller, id).await,
        &to,
        "ok_deleted",
        &to,
    )
}
