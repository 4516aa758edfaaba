//! The entity-resolution engine, free of I/O: records are normalised (`normalize`: half-width,
//! pinyin, dates, Chinese addresses taken apart), compared field by field in levels of agreement
//! (`compare`), blocked by unioned rules with bounded blocks (`block`), scored by a Fellegi–Sunter
//! model (`model`: u by random sampling, m by EM per blocking rule, term-frequency adjustment,
//! explanations), resolved into clusters with ID links, clerical decisions and model links
//! (`resolve`), and given IDs that stay stable across runs (`ids`). `shuju-identity` reads the
//! lake's sources into [`Records`] and keeps the runs; benchmarks drive the engine directly.

pub mod block;
pub mod compare;
pub mod ids;
pub mod model;
pub mod normalize;
pub mod records;
pub mod resolve;

pub use block::{Rule, Take};
pub use compare::Compare;
pub use model::{Explanation, Model};
pub use records::{FieldSpec, Rec, Records};
pub use resolve::{Accuracy, Decisions, PairRef, Resolution, Settings, accuracy, resolve};
