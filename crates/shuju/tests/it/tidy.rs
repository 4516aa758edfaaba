//! Tidiness the compiler does not check: each store module is used only by the domain crate that
//! owns it (others ask that crate), no API response is an untyped JSON value, and
//! docs/ARCHITECTURE.md stays readable (lines of at most 120 characters).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Which crate owns each store module. `audit` and `outbox` are journals every domain appends to.
const OWNERS: &[(&str, &[&str])] = &[
    (
        "admin",
        &[
            "departments",
            "dicts",
            "divisions",
            "login_log",
            "roles",
            "sessions",
            "users",
        ],
    ),
    ("catalog", &["catalog"]),
    ("exchange", &["exchange", "gateway"]),
    ("identity", &["identity", "rules"]),
    ("lake", &["lake"]),
    ("license", &["license"]),
    ("service", &["service"]),
];
const JOURNALS: &[&str] = &["audit", "outbox"];
/// Crates that build on the domains without owning a table: they may append to the journals.
const DOMAIN_USERS: &[&str] = &["platform", "cityops"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The store modules a source text names: `shuju_store::m::…`, `shuju_store::{m, n::…}`.
fn store_modules(src: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = src;
    while let Some(i) = rest.find("shuju_store::") {
        rest = &rest[i + "shuju_store::".len()..];
        let names: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
            // Only the top level of the group names modules.
            let mut depth = 0usize;
            let mut top = String::new();
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    _ if depth == 0 => top.push(ch),
                    _ => {}
                }
            }
            top.split(',')
                .map(|p| p.trim().split("::").next().unwrap_or("").trim().to_owned())
                .collect()
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let after = &rest[end..];
            // A module, not an item: `shuju_store::users::…`, `use shuju_store::users;`.
            if after.starts_with("::") || after.starts_with(" as ") || after.starts_with(';') {
                vec![rest[..end].to_owned()]
            } else {
                vec![]
            }
        };
        for n in names {
            if n.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                out.insert(n);
            }
        }
    }
    // Items at the store's root (Store, Page, fmt_time, …) and its test databases are shared by all.
    for root in ["now", "fmt_time", "parse_time", "self", "testing"] {
        out.remove(root);
    }
    out
}

fn allowed(krate: &str, module: &str) -> bool {
    if krate == "store" {
        return true;
    }
    let owned = OWNERS
        .iter()
        .any(|(c, ms)| *c == krate && ms.contains(&module));
    let domain = OWNERS.iter().any(|(c, _)| *c == krate) || DOMAIN_USERS.contains(&krate);
    owned || (domain && JOURNALS.contains(&module))
}

#[test]
fn store_modules_are_used_only_by_their_owning_crate() {
    let mut crossings = Vec::new();
    let mut seen = 0;
    let crates = workspace().join("crates");
    for dir in std::fs::read_dir(&crates).expect("crates/").flatten() {
        let krate = dir.file_name().to_string_lossy().into_owned();
        let mut files = Vec::new();
        rust_files(&dir.path().join("src"), &mut files);
        for f in files {
            let src = std::fs::read_to_string(&f).expect("source");
            for m in store_modules(&src) {
                seen += 1;
                if !allowed(&krate, &m) {
                    crossings.push(format!("{}: shuju_store::{m}", f.display()));
                }
            }
        }
    }
    assert!(seen > 20, "the scan found the store's uses ({seen})");
    assert!(
        crossings.is_empty(),
        "store modules used outside their owner:\n{}",
        crossings.join("\n")
    );
}

#[test]
fn the_scanner_reads_paths_and_groups() {
    let m = store_modules(
        "use shuju_store::{Page, lake::{self as x, JobRow}, audit};\nlet u = shuju_store::users::get(s);\n\
         use shuju_store::Store; use shuju_store::catalog as c;",
    );
    assert_eq!(
        m.into_iter().collect::<Vec<_>>(),
        ["audit", "catalog", "lake", "users"]
    );
    assert!(!allowed("web", "users") && allowed("admin", "users") && allowed("lake", "audit"));
    assert!(!allowed("web", "audit") && allowed("platform", "outbox"));
}

#[test]
fn no_response_body_is_an_untyped_json_value() {
    let mut files = Vec::new();
    rust_files(&workspace().join("crates/web/src"), &mut files);
    let mut found = Vec::new();
    for f in files {
        let src = std::fs::read_to_string(&f).expect("source");
        for (i, line) in src.lines().enumerate() {
            let l = line.replace(' ', "");
            if l.contains("Json<serde_json::Value>")
                || l.contains("Json<Value>")
                || l.contains("body=Object")
                || l.contains("body=serde_json::Value")
                || l.contains("body=Value")
            {
                found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "untyped response bodies:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_architecture_document_keeps_short_lines() {
    let doc = std::fs::read_to_string(workspace().join("docs/ARCHITECTURE.md"))
        .expect("docs/ARCHITECTURE.md");
    let long: Vec<String> = doc
        .lines()
        .enumerate()
        .filter(|(_, l)| l.chars().count() > 120)
        .map(|(i, l)| format!("line {}: {} characters", i + 1, l.chars().count()))
        .collect();
    assert!(
        long.is_empty(),
        "docs/ARCHITECTURE.md lines past 120 characters:\n{}",
        long.join("\n")
    );
}
