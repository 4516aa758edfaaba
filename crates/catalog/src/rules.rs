//! The rules every write of an entry must pass. Each refusal names the field at fault.
//!
//! These are the rules that need nothing but the entry; the ones that need the database (the
//! provider and system exist, related codes exist, the code is unique) are checked by
//! [`crate::Catalog`] before it writes.

use crate::model::{Entry, OpeningKind, Sensitivity, SharingKind};
use shuju_types::{CodingProfile, Error, ResourceCode, Result};
use std::collections::HashSet;

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|s| s.trim().is_empty())
}

fn is_column(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
        && s.len() <= 64
}

/// Check an entry; returns the parsed resource code.
pub fn check(e: &Entry, profile: &CodingProfile) -> Result<ResourceCode> {
    if e.secret {
        return Err(Error::invalid(
            "secret",
            "secret (涉密) resources must not be catalogued on this platform",
        ));
    }
    let name = e.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid("name", "must be 1 to 200 characters"));
    }
    if e.classification.is_empty()
        || e.classification.len() > 4
        || e.classification.iter().any(|c| c.trim().is_empty())
    {
        return Err(Error::invalid(
            "classification",
            "must name one to four levels (类/项/目/细目)",
        ));
    }
    let code = ResourceCode::parse(&e.code, profile)?;
    if code.attribute() != e.attribute {
        return Err(Error::invalid(
            "attribute",
            format!(
                "the code's first digit ({}) says {} but the resource attribute is {}",
                code.attribute().digit(),
                code.attribute().label_zh(),
                e.attribute.label_zh()
            ),
        ));
    }
    if e.summary.trim().is_empty() || e.summary.chars().count() > 2000 {
        return Err(Error::invalid("summary", "must be 1 to 2000 characters"));
    }
    if e.format.detail.chars().count() > 100 {
        return Err(Error::invalid(
            "format.detail",
            "must be at most 100 characters",
        ));
    }
    match e.sharing.kind {
        SharingKind::Conditional if blank(&e.sharing.condition) => {
            return Err(Error::invalid(
                "sharing.condition",
                "a conditional resource must state its sharing condition",
            ));
        }
        SharingKind::NotShared if blank(&e.sharing.legal_basis) => {
            return Err(Error::invalid(
                "sharing.legal_basis",
                "a resource that is not shared must cite its legal basis",
            ));
        }
        SharingKind::Unconditional | SharingKind::Conditional if e.sharing.methods.is_empty() => {
            return Err(Error::invalid(
                "sharing.methods",
                "a shared resource must say how it is shared (table, API or file)",
            ));
        }
        _ => {}
    }
    if e.sharing.kind == SharingKind::NotShared && e.opening != OpeningKind::NotOpen {
        return Err(Error::invalid(
            "opening",
            "a resource that is not shared cannot be opened",
        ));
    }
    if e.items.is_empty() {
        return Err(Error::invalid(
            "items",
            "at least one information item is required",
        ));
    }
    let mut names = HashSet::new();
    let mut columns = HashSet::new();
    for (i, it) in e.items.iter().enumerate() {
        let f = |x: &str| format!("items[{i}].{x}");
        if it.name.trim().is_empty() || it.name.chars().count() > 100 {
            return Err(Error::invalid(f("name"), "must be 1 to 100 characters"));
        }
        if !names.insert(it.name.trim()) {
            return Err(Error::invalid(f("name"), "repeats another item's name"));
        }
        if !is_column(&it.column) {
            return Err(Error::invalid(
                f("column"),
                "must be a column name: a letter or '_', then letters, digits, '_'",
            ));
        }
        if !columns.insert(it.column.to_ascii_lowercase()) {
            return Err(Error::invalid(f("column"), "repeats another item's column"));
        }
        if it.length == Some(0) {
            return Err(Error::invalid(f("length"), "must be positive"));
        }
        if it.sensitivity == Sensitivity::Secret {
            return Err(Error::invalid(
                f("sensitivity"),
                "secret (涉密) items must not be catalogued on this platform",
            ));
        }
        if it.sharing > e.sharing.kind {
            return Err(Error::invalid(
                f("sharing"),
                format!(
                    "is {} but the resource is only {}: no item is shared wider than its resource",
                    it.sharing.label_zh(),
                    e.sharing.kind.label_zh()
                ),
            ));
        }
        if it.opening > e.opening {
            return Err(Error::invalid(
                f("opening"),
                "no item is opened wider than its resource",
            ));
        }
    }
    if let Some(d) = &e.publish_date
        && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err()
    {
        return Err(Error::invalid("publish_date", "must be a date YYYY-MM-DD"));
    }
    let mut seen = HashSet::new();
    for (i, r) in e.related.iter().enumerate() {
        ResourceCode::parse(r, profile)
            .map_err(|_| Error::invalid(format!("related[{i}]"), "is not a resource code"))?;
        if r.trim() == e.code.trim() {
            return Err(Error::invalid(
                format!("related[{i}]"),
                "an entry cannot be related to itself",
            ));
        }
        if !seen.insert(r.trim()) {
            return Err(Error::invalid(format!("related[{i}]"), "is listed twice"));
        }
    }
    Ok(code)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::*;
    use shuju_types::{Library, ResourceAttribute};

    pub fn sample() -> Entry {
        Entry {
            classification: vec!["基础信息资源".into(), "人口".into(), "户籍人口".into()],
            name: "户籍人口基本信息".into(),
            code: "101001/000001".into(),
            provider_dept_id: 1,
            provider_name: String::new(),
            provider_code: String::new(),
            summary: "全市户籍人口的身份、住址、户别等基本信息。".into(),
            format: Format {
                category: FormatCategory::Database,
                detail: "PostgreSQL".into(),
            },
            items: vec![
                Item {
                    name: "公民身份号码".into(),
                    column: "sfzh".into(),
                    data_type: DataType::Char,
                    length: Some(18),
                    code_standard: Some("GB 11643".into()),
                    sensitivity: Sensitivity::Sensitive,
                    sharing: SharingKind::Conditional,
                    opening: OpeningKind::NotOpen,
                    element: None,
                    role: None,
                },
                Item {
                    name: "姓名".into(),
                    column: "xm".into(),
                    data_type: DataType::Char,
                    length: Some(50),
                    code_standard: None,
                    sensitivity: Sensitivity::Sensitive,
                    sharing: SharingKind::Conditional,
                    opening: OpeningKind::NotOpen,
                    element: None,
                    role: None,
                },
            ],
            sharing: Sharing {
                kind: SharingKind::Conditional,
                condition: Some("用于政务服务身份核验".into()),
                legal_basis: None,
                methods: vec![SharingMethod::Api],
            },
            opening: OpeningKind::NotOpen,
            update_cycle: UpdateCycle::Daily,
            publish_date: None,
            related: vec![],
            system_id: None,
            library: Library::BasePopulation,
            attribute: ResourceAttribute::Base,
            secret: false,
        }
    }

    fn field_of(e: &Entry) -> String {
        check(e, &CodingProfile::default())
            .unwrap_err()
            .field
            .unwrap()
    }

    #[test]
    fn every_rule_names_its_field() {
        assert!(check(&sample(), &CodingProfile::default()).is_ok());
        let mut e = sample();
        e.sharing.condition = None;
        assert_eq!(field_of(&e), "sharing.condition");
        let mut e = sample();
        e.sharing.kind = SharingKind::NotShared;
        e.items
            .iter_mut()
            .for_each(|i| i.sharing = SharingKind::NotShared);
        assert_eq!(field_of(&e), "sharing.legal_basis");
        let mut e = sample();
        e.items[1].sharing = SharingKind::Unconditional;
        assert_eq!(field_of(&e), "items[1].sharing");
        let mut e = sample();
        e.secret = true;
        assert_eq!(field_of(&e), "secret");
        let mut e = sample();
        e.items[0].sensitivity = Sensitivity::Secret;
        assert_eq!(field_of(&e), "items[0].sensitivity");
        let mut e = sample();
        e.code = "101001-000001".into();
        assert_eq!(field_of(&e), "code");
        let mut e = sample();
        e.attribute = ResourceAttribute::Department;
        assert_eq!(field_of(&e), "attribute");
        let mut e = sample();
        e.related = vec!["101001/000001".into()];
        assert_eq!(field_of(&e), "related[0]");
        let mut e = sample();
        e.items[1].column = "sfzh".into();
        assert_eq!(field_of(&e), "items[1].column");
        let mut e = sample();
        e.sharing.methods.clear();
        assert_eq!(field_of(&e), "sharing.methods");
        let mut e = sample();
        e.items.clear();
        assert_eq!(field_of(&e), "items");
    }
}
