//! Entity resolution and the person and enterprise files (一人一档, 一企一档).
//!
//! - [`records`]: the records to resolve, their fields normalised once ([`normalize`]) and compared
//!   at levels of agreement ([`compare`]);
//! - [`block`]: which pairs are compared (unioned blocking rules, bounded block size);
//! - [`model`]: the Fellegi–Sunter model (u by random sampling, m by EM, term-frequency adjustment),
//!   with an explanation for every pair;
//! - [`resolve`]: deterministic links on validated identifiers, the model's links, clerical
//!   decisions, clusters and pairwise accuracy;
//! - [`ids`]: stable entity IDs across runs, with the merges and splits listed;
//! - [`runs`]: runs recorded in the store and the clerical decisions they respect;
//! - [`persons`] and [`enterprises`]: the sources over the lake, the files, the one-click checks
//!   ([`checks`]).

pub mod checks;
pub mod enterprises;
pub mod facts;
#[cfg(feature = "bench")]
pub mod febrl;
pub mod files;
pub mod fill;
pub mod grid;
#[cfg(feature = "bench")]
pub mod linkage;
pub mod links;
pub mod persons;
pub mod runs;
pub mod sources;

pub use block::{Rule, Take};
pub use compare::Compare;
pub use model::{Explanation, Model};
pub use records::{FieldSpec, Rec, Records};
pub use resolve::{Accuracy, Decisions, PairRef, Resolution, Settings, accuracy};
/// The engine, re-exported under its old paths (`shuju_identity::resolve`, …).
pub use shuju_er::{block, compare, ids, model, normalize, records, resolve};
pub use shuju_store::identity::{ClusterRow, LinkFilter, LinkRow, ReviewRow, RunRow, links};
pub use shuju_store::rules::RuleSetRow;

/// Match the person and enterprise records a delivery brought (lake job `job` into `table`) as it
/// lands, as the platform. A failure is logged; the delivery itself stands, and the next full run
/// links what was missed.
pub async fn landed(
    persons: &persons::Persons,
    enterprises: &enterprises::Enterprises,
    table: &str,
    job: i64,
) {
    let sys = shuju_admin::Caller::system();
    // A server just started loads the last run's match index in the background; a delivery
    // matched before it is there would become nobody's. Wait for it (at most ten minutes).
    for _ in 0..600 {
        if !persons.loading().await {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    if let Err(e) = persons.absorb(&sys, table, job).await {
        tracing::warn!(error = %e.report(), %table, job, "delivery not matched to persons");
    }
    if let Err(e) = enterprises.absorb(&sys, table, job).await {
        tracing::warn!(error = %e.report(), %table, job, "delivery not matched to enterprises");
    }
}
