//! The synthetic city: deterministic for a seed, so tests and benchmarks see the same data every
//! run. Today it generates the catalog departments would register; the lake issue adds the
//! deliveries themselves.

pub mod catalog;
pub mod city;
pub mod profile;
pub mod sources;
