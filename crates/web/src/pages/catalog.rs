//! Catalog pages: browse and search with facets, one's own entries, an entry with its items,
//! versions and history, the edit form, the review queue, error reports, information systems.

use super::{
    CheckedForm, Flash, FormPairs, PageCaller, after, back, base, csrf_refused, page, page_error,
    render,
};
use crate::api::catalog::{ChangeView, EntryView, HistoryView, SearchParams, SystemView};
use crate::api::departments::{TreeNode, read_upload};
use crate::extract::{Path, Query};
use crate::{AppState, WebConfig};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::response::Response;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use shuju_admin::{Caller, perm};
use shuju_catalog::CorrectionView;
use shuju_catalog::model::*;
use shuju_catalog::rows::{EntryFilter, InfoSystemFields};
use shuju_types::{Library, ResourceAttribute, Result};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes(cfg: &WebConfig) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(browse))
        .routes(routes!(entry_page, entry_update))
        .routes(routes!(new_page, entry_create))
        .routes(routes!(edit_page))
        .routes(routes!(entry_action))
        .routes(routes!(review_page))
        .routes(routes!(corrections_page))
        .routes(routes!(correction_answer))
        .routes(routes!(systems_page, system_create))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(import))
                .layer(DefaultBodyLimit::max(cfg.upload_limit)),
        )
}

async fn tree(s: &AppState, c: &Caller) -> Result<Vec<TreeNode>> {
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

/// The providers' tree for browsing the catalog: every department, whatever the reader's data
/// scope (the catalog names its providers to every reader; only what a form may choose is scoped).
async fn providers(s: &AppState) -> Result<Vec<TreeNode>> {
    Ok(s.admin
        .dept_tree()
        .await?
        .ordered()
        .into_iter()
        .map(|(depth, d)| TreeNode {
            id: d.id,
            parent_id: d.parent_id,
            name: d.name.clone(),
            depth,
        })
        .collect())
}

/// Labels for the enumerations, keyed by their values, for tables and drop-downs.
pub(super) fn labels() -> Value {
    let map =
        |pairs: Vec<(&'static str, &'static str)>| pairs.into_iter().collect::<BTreeMap<_, _>>();
    context! {
        library => map(Library::ALL.iter().map(|l| (l.key(), l.label_zh())).collect()),
        sharing => map(SharingKind::ALL.iter().map(|l| (l.key(), l.label_zh())).collect()),
        cycle => map(UpdateCycle::ALL.iter().map(|l| (l.key(), l.label_zh())).collect()),
        format => map(FormatCategory::ALL.iter().map(|l| (l.key(), l.label_zh())).collect()),
        opening => map(OpeningKind::ALL.iter().map(|l| (l.key(), l.label_zh())).collect()),
        data_type => map(DataType::ALL.iter().map(|l| (l.key(), l.label_zh())).collect()),
        sensitivity => map(Sensitivity::ALL.iter().map(|l| (l.key(), l.label_zh())).collect()),
        method => map(SharingMethod::ALL.iter().map(|l| (l.key(), l.label_zh())).collect()),
        attribute => map(vec![("base", "基础"), ("theme", "主题"), ("department", "部门")]),
        status => map(vec![("draft", "草稿"), ("submitted", "待审核"), ("published", "已发布"), ("offline", "已下线")]),
    }
}

#[derive(Deserialize, Serialize, Default)]
#[serde(default)]
pub struct BrowseQuery {
    q: Option<String>,
    mine: Option<String>,
    under: Option<i64>,
    status: Option<String>,
    provider: Option<String>,
    library: Option<String>,
    sharing: Option<String>,
    cycle: Option<String>,
    format: Option<String>,
    page: Option<u32>,
    flash: Option<String>,
}

impl BrowseQuery {
    fn mine(&self) -> bool {
        matches!(self.mine.as_deref(), Some("1" | "true"))
    }

    /// The current URL without `page` and with one filter changed, for links.
    fn url_with(&self, key: &str, value: Option<&str>) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        let pairs = [
            ("q", self.q.clone()),
            ("mine", self.mine.clone()),
            ("under", self.under.map(|u| u.to_string())),
            ("status", self.status.clone()),
            ("provider", self.provider.clone()),
            ("library", self.library.clone()),
            ("sharing", self.sharing.clone()),
            ("cycle", self.cycle.clone()),
            ("format", self.format.clone()),
        ];
        for (k, v) in pairs {
            let v = if k == key { value.map(String::from) } else { v };
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                s.append_pair(k, &v);
            }
        }
        format!("/catalog?{}", s.finish())
    }
}

#[derive(Serialize)]
struct FacetLink {
    value: String,
    label: String,
    count: u64,
    href: String,
    active: bool,
}

/// The catalog: search with facets over the published catalog, or over your own entries.
#[utoipa::path(get, path = "/catalog", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn browse(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<BrowseQuery>,
) -> Response {
    let c = &pc.caller;
    let r = async {
        let params = SearchParams {
            q: q.q.clone(),
            mine: Some(q.mine()),
            under: q.under,
            status: q.status.clone(),
            provider: q.provider.clone(),
            library: q.library.clone(),
            sharing: q.sharing.clone(),
            cycle: q.cycle.clone(),
            format: q.format.clone(),
            page: q.page,
            size: Some(20),
        };
        let (hits, views) = s.catalog.search(c, params.query(), q.mine(), q.under).await?;
        let tree = providers(&s).await?;
        let dept_names: BTreeMap<String, String> = s.admin.dept_tree().await?.depts.into_iter().map(|d| (d.id.to_string(), d.name)).collect();
        let l = labels();
        let mut facets = BTreeMap::new();
        for (dim, values) in &hits.facets {
            let current = match dim.as_str() {
                "provider" => &q.provider,
                "library" => &q.library,
                "sharing" => &q.sharing,
                "cycle" => &q.cycle,
                _ => &q.format,
            };
            let links: Vec<FacetLink> = values
                .iter()
                .take(12)
                .map(|(v, n)| {
                    let label = if dim == "provider" {
                        dept_names.get(v).cloned().unwrap_or_else(|| v.clone())
                    } else {
                        l.get_attr(dim).ok().and_then(|m| m.get_attr(v).ok()).and_then(|x| x.as_str().map(String::from)).unwrap_or_else(|| v.clone())
                    };
                    let active = current.as_deref() == Some(v.as_str());
                    FacetLink { value: v.clone(), label, count: *n, href: q.url_with(dim, if active { None } else { Some(v) }), active }
                })
                .collect();
            facets.insert(dim.clone(), links);
        }
        let page = q.page.unwrap_or(1).max(1);
        Ok::<_, shuju_types::Error>(context! {
            hits_total => hits.total,
            items => views.into_iter().map(EntryView::from).collect::<Vec<_>>(),
            facets => facets,
            tree => tree,
            tree_base => q.url_with("under", None) + "&",
            under => q.under,
            q => &q,
            mine => q.mine(),
            labels => l,
            page => context! { page => page, size => 20, total => hits.total },
            pager_base => q.url_with("page", None) + "&",
            can => context! { add => c.can(perm::CATALOG_ADD), import => c.can(perm::CATALOG_IMPORT), export => c.can(perm::CATALOG_EXPORT), review => c.can(perm::CATALOG_REVIEW) },
            ..base(&pc, if q.mine() { "catalog_mine" } else { "catalog" }, &Flash::take(&pc, q.flash.as_deref()))
        })
    }
    .await;
    page("catalog.html", r)
}

#[derive(Deserialize, Serialize, Default)]
#[serde(default)]
pub struct EntryQuery {
    a: Option<i64>,
    b: Option<i64>,
    flash: Option<String>,
}

/// One entry: metadata, items, versions (with a comparison), history and the actions allowed.
#[utoipa::path(get, path = "/catalog/entries/{id}", tag = "pages", params(("id" = i64, Path)), responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn entry_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Path(id): Path<i64>,
    Query(q): Query<EntryQuery>,
) -> Response {
    let c = &pc.caller;
    let r = async {
        let v = s.catalog.get(c, id).await?;
        let managed = s.admin.visibility(c).await?.sees_dept(v.row.provider_dept_id);
        let history: HistoryView = s.catalog.history(c, id).await?.into();
        let diff: Option<Vec<ChangeView>> = match (q.a, q.b) {
            (Some(a), Some(b)) => Some(
                s.catalog
                    .compare(c, id, a, b)
                    .await?
                    .into_iter()
                    .map(|f| ChangeView { field: f.field, before: f.before, after: f.after })
                    .collect(),
            ),
            _ => None,
        };
        let system = match v.entry.system_id {
            Some(sid) => s.catalog.system_name(sid).await?,
            None => None,
        };
        let view = EntryView::from(v);
        let st = view.status.clone();
        Ok::<_, shuju_types::Error>(context! {
            e => view,
            system => system,
            history => history,
            diff => diff,
            a => q.a, b => q.b,
            labels => labels(),
            can => context! {
                edit => managed && c.can(perm::CATALOG_EDIT) && st != "submitted",
                submit => managed && c.can(perm::CATALOG_SUBMIT) && st == "draft",
                review => c.can(perm::CATALOG_REVIEW) && st == "submitted",
                offline => (managed || c.can(perm::CATALOG_REVIEW)) && c.can(perm::CATALOG_OFFLINE) && st == "published",
                remove => managed && c.can(perm::CATALOG_REMOVE) && st == "draft",
                report => c.can(perm::CORRECTION_ADD) && st == "published",
            },
            ..base(&pc, "catalog", &Flash::take(&pc, q.flash.as_deref()))
        })
    }
    .await;
    page("catalog_entry.html", r)
}

/// Lifecycle actions and error reports from the entry page.
#[utoipa::path(post, path = "/catalog/entries/{id}/{action}", tag = "pages",
    params(("id" = i64, Path), ("action" = String, Path, description = "submit | approve | return | offline | delete | report")),
    responses((status = 303, description = "redirect")))]
pub async fn entry_action(
    State(s): State<AppState>,
    Path((id, action)): Path<(i64, String)>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let c = &pc.caller;
    let to = format!("/catalog/entries/{id}");
    let r = match action.as_str() {
        "submit" => s.catalog.submit(c, id).await.map(|_| ()),
        "approve" => s.catalog.approve(c, id).await.map(|_| ()),
        "return" => s
            .catalog
            .return_entry(c, id, &f.str("reason"))
            .await
            .map(|_| ()),
        "offline" => s.catalog.offline(c, id, &f.str("reason")).await.map(|_| ()),
        "report" => s
            .catalog
            .report_error(c, id, &f.str("description"))
            .await
            .map(|_| ()),
        "delete" => {
            return after(
                &pc,
                s.catalog.delete(c, id).await,
                "/catalog?mine=1",
                "ok_deleted",
                &to,
            );
        }
        _ => Err(shuju_types::Error::not_found("action")),
    };
    after(&pc, r, &to, "ok_saved", &to)
}

/// An empty entry for the new-entry form.
fn blank(provider: i64) -> Entry {
    Entry {
        classification: vec![],
        name: String::new(),
        code: String::new(),
        provider_dept_id: provider,
        provider_name: String::new(),
        provider_code: String::new(),
        summary: String::new(),
        format: Format {
            category: FormatCategory::Database,
            detail: String::new(),
        },
        items: vec![],
        sharing: Sharing {
            kind: SharingKind::Conditional,
            condition: None,
            legal_basis: None,
            methods: vec![],
        },
        opening: OpeningKind::NotOpen,
        update_cycle: UpdateCycle::Monthly,
        publish_date: None,
        related: vec![],
        system_id: None,
        library: Library::Business,
        attribute: ResourceAttribute::Department,
        secret: false,
    }
}

async fn form_ctx(
    s: &AppState,
    pc: &PageCaller,
    id: Option<i64>,
    e: Entry,
    err: Option<String>,
) -> Result<Value> {
    let c = &pc.caller;
    let systems = s
        .catalog
        .list_systems(
            c,
            None,
            shuju_store::Page {
                page: 1,
                size: shuju_store::Page::MAX_SIZE,
            },
        )
        .await?;
    let blank_rows = 5usize.max(8usize.saturating_sub(e.items.len()));
    Ok(context! {
        id => id,
        e => e,
        blank_rows => blank_rows,
        tree => tree(s, c).await?,
        systems => systems.items.into_iter().map(SystemView::from).collect::<Vec<_>>(),
        labels => labels(),
        libraries => Library::ALL.iter().map(|l| l.key()).collect::<Vec<_>>(),
        sharing_kinds => SharingKind::ALL.iter().map(|l| l.key()).collect::<Vec<_>>(),
        openings => OpeningKind::ALL.iter().map(|l| l.key()).collect::<Vec<_>>(),
        cycles => UpdateCycle::ALL.iter().map(|l| l.key()).collect::<Vec<_>>(),
        formats => FormatCategory::ALL.iter().map(|l| l.key()).collect::<Vec<_>>(),
        data_types => DataType::ALL.iter().map(|l| l.key()).collect::<Vec<_>>(),
        sensitivities => Sensitivity::ALL.iter().filter(|x| **x != Sensitivity::Secret).map(|l| l.key()).collect::<Vec<_>>(),
        methods => SharingMethod::ALL.iter().map(|l| l.key()).collect::<Vec<_>>(),
        coding => s.catalog.coding().clone(),
        ..base(pc, "catalog_mine", &Flash { ok: None, err })
    })
}

/// Read the edit form back into an entry. Unparsable choices fall back so the rules can speak.
fn entry_from_form(f: &FormPairs) -> Entry {
    let names = f.all("item_name");
    let cols = f.all("item_column");
    let types = f.all("item_type");
    let lens = f.all("item_length");
    let stds = f.all("item_standard");
    let sens = f.all("item_sensitivity");
    let shar = f.all("item_sharing");
    let opens = f.all("item_opening");
    let elements = f.all("item_element");
    let roles = f.all("item_role");
    let get = |v: &Vec<String>, i: usize| v.get(i).cloned().unwrap_or_default();
    let items = (0..names.len())
        .filter(|i| !get(&names, *i).trim().is_empty() || !get(&cols, *i).trim().is_empty())
        .map(|i| Item {
            name: get(&names, i).trim().to_owned(),
            column: get(&cols, i).trim().to_owned(),
            data_type: DataType::parse(&get(&types, i)).unwrap_or(DataType::Char),
            length: get(&lens, i).trim().parse().ok(),
            code_standard: Some(get(&stds, i).trim().to_owned()).filter(|s| !s.is_empty()),
            sensitivity: Sensitivity::parse(&get(&sens, i)).unwrap_or(Sensitivity::Internal),
            sharing: SharingKind::parse(&get(&shar, i)).unwrap_or(SharingKind::NotShared),
            opening: OpeningKind::parse(&get(&opens, i)).unwrap_or(OpeningKind::NotOpen),
            element: Some(get(&elements, i).trim().to_owned()).filter(|s| !s.is_empty()),
            role: Some(get(&roles, i).trim().to_owned()).filter(|s| !s.is_empty()),
        })
        .collect();
    let lines = |k: &str| {
        f.str(k)
            .split(['\n', ';', '；', ','])
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
    };
    Entry {
        classification: f
            .str("classification")
            .split('/')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        name: f.str("name"),
        code: f.str("code"),
        provider_dept_id: f.i64("provider_dept_id").unwrap_or(0),
        provider_name: String::new(),
        provider_code: String::new(),
        summary: f.str("summary"),
        format: Format {
            category: FormatCategory::parse(&f.str("format_category"))
                .unwrap_or(FormatCategory::Other),
            detail: f.str("format_detail"),
        },
        items,
        sharing: Sharing {
            kind: SharingKind::parse(&f.str("sharing_kind")).unwrap_or(SharingKind::NotShared),
            condition: f.get("sharing_condition"),
            legal_basis: f.get("sharing_legal_basis"),
            methods: f
                .all("sharing_methods")
                .iter()
                .filter_map(|m| SharingMethod::parse(m))
                .collect(),
        },
        opening: OpeningKind::parse(&f.str("opening")).unwrap_or(OpeningKind::NotOpen),
        update_cycle: UpdateCycle::parse(&f.str("update_cycle")).unwrap_or(UpdateCycle::Irregular),
        publish_date: f.get("publish_date"),
        related: lines("related"),
        system_id: f.i64("system_id"),
        library: Library::parse(&f.str("library")).unwrap_or(Library::Business),
        attribute: match f.str("attribute").as_str() {
            "base" => ResourceAttribute::Base,
            "theme" => ResourceAttribute::Theme,
            _ => ResourceAttribute::Department,
        },
        secret: f.get("secret").is_some(),
    }
}

/// The form for a new entry.
#[utoipa::path(get, path = "/catalog/new", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn new_page(State(s): State<AppState>, pc: PageCaller) -> Response {
    let e = blank(pc.caller.dept_id.unwrap_or(0));
    page("catalog_form.html", form_ctx(&s, &pc, None, e, None).await)
}

/// Register an entry from the form; on refusal the form comes back filled, with the reason.
#[utoipa::path(post, path = "/catalog/new", tag = "pages", responses((status = 303, description = "redirect"), (status = 200, description = "the form with the reason", content_type = "text/html")))]
pub async fn entry_create(
    State(s): State<AppState>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let e = entry_from_form(&f);
    match s.catalog.create(&pc.caller, e.clone()).await {
        Ok(v) => back(
            &pc,
            &format!("/catalog/entries/{}", v.row.id),
            Some("ok_saved"),
            None,
        ),
        Err(err) => match form_ctx(&s, &pc, None, e, Some(crate::i18n::say(pc.lang, &err))).await {
            Ok(ctx) => render("catalog_form.html", ctx),
            Err(e) => page_error(e),
        },
    }
}

/// The edit form of an entry.
#[utoipa::path(get, path = "/catalog/entries/{id}/edit", tag = "pages", params(("id" = i64, Path)), responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn edit_page(State(s): State<AppState>, pc: PageCaller, Path(id): Path<i64>) -> Response {
    let r = async {
        let v = s.catalog.get(&pc.caller, id).await?;
        form_ctx(&s, &pc, Some(id), v.entry, None).await
    }
    .await;
    page("catalog_form.html", r)
}

/// Save the edit form (a new version).
#[utoipa::path(post, path = "/catalog/entries/{id}", tag = "pages", params(("id" = i64, Path)), responses((status = 303, description = "redirect"), (status = 200, description = "the form with the reason", content_type = "text/html")))]
pub async fn entry_update(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let e = entry_from_form(&f);
    match s.catalog.update(&pc.caller, id, e.clone()).await {
        Ok(_) => back(
            &pc,
            &format!("/catalog/entries/{id}"),
            Some("ok_saved"),
            None,
        ),
        Err(err) => {
            match form_ctx(&s, &pc, Some(id), e, Some(crate::i18n::say(pc.lang, &err))).await {
                Ok(ctx) => render("catalog_form.html", ctx),
                Err(e) => page_error(e),
            }
        }
    }
}

/// Import entries from Excel; the page shows each bad row.
#[utoipa::path(post, path = "/catalog/import", tag = "pages", responses((status = 200, description = "HTML page with the import report", content_type = "text/html")))]
pub async fn import(State(s): State<AppState>, pc: PageCaller, m: Multipart) -> Response {
    let up = match read_upload(m).await {
        Ok(v) => v,
        Err(e) => return back(&pc, "/catalog?mine=1", None, Some(&e.0.message)),
    };
    if !up.csrf_ok(&pc.caller) {
        return csrf_refused();
    }
    match s
        .catalog
        .import(&pc.caller, &up.file, up.flag("partial"), false)
        .await
    {
        Ok(r) => render(
            "catalog_import.html",
            context! { report => crate::api::departments::ImportView::from(r), ..base(&pc, "catalog_mine", &Flash::default()) },
        ),
        Err(e) => back(&pc, "/catalog?mine=1", None, Some(&e.message)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    page: Option<u32>,
    flash: Option<String>,
}

/// The review queue: submitted entries waiting for the bureau.
#[utoipa::path(get, path = "/catalog/review", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn review_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<PageQuery>,
) -> Response {
    let c = &pc.caller;
    let f = EntryFilter {
        status: Some("submitted".into()),
        ..Default::default()
    };
    match s
        .catalog
        .list_managed(c, f, None, shuju_store::Page::new(q.page, Some(20)))
        .await
    {
        Ok(p) => render(
            "catalog_review.html",
            context! {
                page => crate::api::Paged::map(p, EntryView::from),
                labels => labels(),
                pager_base => "/catalog/review?",
                can_review => c.can(perm::CATALOG_REVIEW),
                ..base(&pc, "catalog_review", &Flash::take(&pc, q.flash.as_deref()))
            },
        ),
        Err(e) => page_error(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CorrectionQuery {
    view: Option<String>,
    page: Option<u32>,
    flash: Option<String>,
}

/// Error reports: to answer (on your entries) and made by your department.
#[utoipa::path(get, path = "/catalog/corrections", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn corrections_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<CorrectionQuery>,
) -> Response {
    let c = &pc.caller;
    let mine = q.view.as_deref() == Some("mine");
    let view = if mine {
        CorrectionView::Mine
    } else {
        CorrectionView::ToAnswer
    };
    match s
        .catalog
        .corrections(c, view, None, shuju_store::Page::new(q.page, Some(20)))
        .await
    {
        Ok(p) => render(
            "catalog_corrections.html",
            context! {
                page => crate::api::Paged::map(p, crate::api::catalog::CorrectionViewDto::from),
                mine => mine,
                pager_base => if mine { "/catalog/corrections?view=mine&" } else { "/catalog/corrections?" },
                can_answer => c.can(perm::CORRECTION_ANSWER) && !mine,
                ..base(&pc, "catalog_corrections", &Flash::take(&pc, q.flash.as_deref()))
            },
        ),
        Err(e) => page_error(e),
    }
}

/// Answer an error report from the queue.
#[utoipa::path(post, path = "/catalog/corrections/{id}/answer", tag = "pages", params(("id" = i64, Path)), responses((status = 303, description = "redirect")))]
pub async fn correction_answer(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    after(
        &pc,
        s.catalog
            .answer_error(&pc.caller, id, &f.str("answer"))
            .await,
        "/catalog/corrections",
        "ok_saved",
        "/catalog/corrections",
    )
}

/// Information systems, with the cloud-migration rate.
#[utoipa::path(get, path = "/catalog/systems", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn systems_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<PageQuery>,
) -> Response {
    let c = &pc.caller;
    let r = async {
        let p = s.catalog.list_systems(c, None, shuju_store::Page::new(q.page, Some(50))).await?;
        let names: BTreeMap<i64, String> = s.admin.dept_tree().await?.depts.into_iter().map(|d| (d.id, d.name)).collect();
        let (_, _, total, cloud) = s.catalog.figures().await?;
        let produced: BTreeMap<i64, i64> = s.catalog.entries_per_system().await?.into_iter().collect();
        Ok::<_, shuju_types::Error>(context! {
            page => crate::api::Paged::map(p, SystemView::from),
            dept_names => names,
            produced => produced,
            tree => providers(&s).await?,
            total => total, cloud => cloud,
            rate => if total > 0 { format!("{:.1}%", cloud as f64 * 100.0 / total as f64) } else { "—".into() },
            pager_base => "/catalog/systems?",
            can_add => c.can(perm::SYSTEM_ADD),
            ..base(&pc, "catalog_systems", &Flash::take(&pc, q.flash.as_deref()))
        })
    }
    .await;
    page("catalog_systems.html", r)
}

/// Register an information system from the form.
#[utoipa::path(post, path = "/catalog/systems", tag = "pages", responses((status = 303, description = "redirect")))]
pub async fn system_create(
    State(s): State<AppState>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let fields = InfoSystemFields {
        name: f.str("name"),
        owner_dept_id: f.i64("owner_dept_id").unwrap_or(0),
        hosting: f.str("hosting"),
        status: f.str("status"),
        description: f.get("description"),
    };
    after(
        &pc,
        s.catalog.create_system(&pc.caller, fields).await,
        "/catalog/systems",
        "ok_saved",
        "/catalog/systems",
    )
}
