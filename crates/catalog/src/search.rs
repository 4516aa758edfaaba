//! Full-text search over the catalog: tantivy with the jieba Chinese tokenizer, facets by provider,
//! library, sharing class, update cycle and format, and filters by department set (data scope and
//! department subtree) and status.
//!
//! The index lives in memory and is rebuilt from the database at start (30,000 entries take a few
//! seconds); every write through [`crate::Catalog`] updates it, and writes made by another process
//! (a CLI import while the server runs) are picked up by [`crate::Catalog::refresh_index`].

use crate::model::Entry;
use shuju_store::catalog::EntryRow;
use shuju_types::{Error, Result};
use std::collections::BTreeMap;
use std::sync::Mutex;
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryParser, TermQuery, TermSetQuery};
use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions, Value,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// The facet dimensions.
pub const DIMENSIONS: [&str; 5] = ["provider", "library", "sharing", "cycle", "format"];

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    name: Field,
    text: Field,
    provider: Field,
    published: Field,
    status: Field,
    facets: Field,
}

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    parser: QueryParser,
    f: Fields,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("docs", &self.reader.searcher().num_docs())
            .finish()
    }
}

/// A search.
#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    pub text: Option<String>,
    /// Only entries of these providers (data scope and/or department subtree).
    pub providers: Option<Vec<i64>>,
    pub published_only: bool,
    pub status: Option<String>,
    /// Facet filters: (dimension, value).
    pub facets: Vec<(String, String)>,
    pub offset: usize,
    pub limit: usize,
}

/// What a search found.
#[derive(Clone, Debug, Default)]
pub struct SearchHits {
    pub total: usize,
    /// Entry ids of the page, best first.
    pub ids: Vec<i64>,
    /// For each dimension, (value, count), most frequent first.
    pub facets: BTreeMap<String, Vec<(String, u64)>>,
}

fn tantivy_err(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("search index: {e}"))
}

impl SearchIndex {
    pub fn new() -> Result<SearchIndex> {
        let mut sb = Schema::builder();
        let jieba = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("jieba")
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let f = Fields {
            id: sb.add_u64_field("id", INDEXED | STORED | FAST),
            name: sb.add_text_field("name", jieba.clone()),
            text: sb.add_text_field("text", jieba),
            provider: sb.add_u64_field("provider", INDEXED | FAST),
            published: sb.add_u64_field("published", INDEXED),
            status: sb.add_text_field("status", STRING),
            facets: sb.add_facet_field("facets", FacetOptions::default()),
        };
        let index = Index::create_in_ram(sb.build());
        index
            .tokenizers()
            .register("jieba", tantivy_jieba::JiebaTokenizer::new());
        let writer = index
            .writer_with_num_threads(1, 50_000_000)
            .map_err(tantivy_err)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(tantivy_err)?;
        let mut parser = QueryParser::for_index(&index, vec![f.name, f.text]);
        parser.set_field_boost(f.name, 3.0);
        parser.set_conjunction_by_default();
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            parser,
            f,
        })
    }

    fn document(&self, row: &EntryRow) -> Result<TantivyDocument> {
        let e: Entry = serde_json::from_str(&row.content).map_err(Error::internal)?;
        let mut text = String::new();
        for part in [&e.summary, &e.code, &e.provider_name, &e.format.detail] {
            text.push_str(part);
            text.push('\n');
        }
        for c in &e.classification {
            text.push_str(c);
            text.push(' ');
        }
        for it in &e.items {
            text.push_str(&it.name);
            text.push(' ');
        }
        let mut doc = TantivyDocument::default();
        doc.add_u64(self.f.id, row.id as u64);
        doc.add_text(self.f.name, &e.name);
        doc.add_text(self.f.text, &text);
        doc.add_u64(self.f.provider, row.provider_dept_id as u64);
        doc.add_u64(self.f.published, u64::from(row.published_version.is_some()));
        doc.add_text(self.f.status, &row.status);
        for (dim, value) in [
            ("provider", row.provider_dept_id.to_string()),
            ("library", row.library.clone()),
            ("sharing", row.sharing.clone()),
            ("cycle", row.update_cycle.clone()),
            ("format", row.format.clone()),
        ] {
            doc.add_facet(self.f.facets, Facet::from_path([dim, value.as_str()]));
        }
        // Filterable, not counted: the open-data face shows only what may be opened.
        doc.add_facet(
            self.f.facets,
            Facet::from_path(["opening", e.opening.key()]),
        );
        Ok(doc)
    }

    /// Add or replace entries, and remove deleted ones, in one commit.
    pub fn apply(&self, rows: &[EntryRow], deleted: &[i64]) -> Result<()> {
        if rows.is_empty() && deleted.is_empty() {
            return Ok(());
        }
        let mut w = self
            .writer
            .lock()
            .map_err(|_| Error::internal("search index lock poisoned"))?;
        for id in deleted {
            w.delete_term(Term::from_field_u64(self.f.id, *id as u64));
        }
        for r in rows {
            w.delete_term(Term::from_field_u64(self.f.id, r.id as u64));
            w.add_document(self.document(r)?).map_err(tantivy_err)?;
        }
        w.commit().map_err(tantivy_err)?;
        drop(w);
        self.reader.reload().map_err(tantivy_err)
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn search(&self, q: &SearchQuery) -> Result<SearchHits> {
        let searcher = self.reader.searcher();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        match q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => {
                let (query, _errors) = self.parser.parse_query_lenient(t);
                clauses.push((Occur::Must, query));
            }
            None => clauses.push((Occur::Must, Box::new(AllQuery))),
        }
        if let Some(ids) = &q.providers {
            let terms: Vec<Term> = ids
                .iter()
                .map(|i| Term::from_field_u64(self.f.provider, *i as u64))
                .collect();
            clauses.push((Occur::Must, Box::new(TermSetQuery::new(terms))));
        }
        if q.published_only {
            let t = Term::from_field_u64(self.f.published, 1);
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(t, IndexRecordOption::Basic)),
            ));
        }
        if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
            let t = Term::from_field_text(self.f.status, s);
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(t, IndexRecordOption::Basic)),
            ));
        }
        for (dim, value) in &q.facets {
            let t = Term::from_facet(
                self.f.facets,
                &Facet::from_path([dim.as_str(), value.as_str()]),
            );
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(t, IndexRecordOption::Basic)),
            ));
        }
        let query = BooleanQuery::new(clauses);
        let mut fc = FacetCollector::for_field("facets");
        for d in DIMENSIONS {
            fc.add_facet(Facet::from_path([d]));
        }
        let top = TopDocs::with_limit(q.limit.max(1))
            .and_offset(q.offset)
            .order_by_score();
        let (docs, total, counts) = searcher
            .search(&query, &(top, Count, fc))
            .map_err(tantivy_err)?;
        let mut ids = Vec::with_capacity(docs.len());
        for (_, addr) in docs {
            let d: TantivyDocument = searcher.doc(addr).map_err(tantivy_err)?;
            if let Some(id) = d.get_first(self.f.id).and_then(|v| v.as_u64()) {
                ids.push(id as i64);
            }
        }
        let mut facets = BTreeMap::new();
        for d in DIMENSIONS {
            let mut v: Vec<(String, u64)> = counts
                .get(Facet::from_path([d]))
                .map(|(facet, n)| {
                    (
                        facet
                            .to_path()
                            .last()
                            .map(|s| (*s).to_owned())
                            .unwrap_or_default(),
                        n,
                    )
                })
                .collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            facets.insert(d.to_owned(), v);
        }
        Ok(SearchHits { total, ids, facets })
    }

    /// The index's analyzer, for tests: how jieba cuts a text.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(mut a) = self.index.tokenizers().get("jieba") {
            let mut s = a.token_stream(text);
            while s.advance() {
                out.push(s.token().text.clone());
            }
        }
        out
    }
}
