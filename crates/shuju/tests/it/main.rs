//! The binary as an operator runs it, linked into one test binary: first start, demo, audit
//! verification, `kill -9` mid-ingest, hostile deliveries within the memory budget; the workspace's tidiness.

mod cli;
mod hostile;
mod kill;
mod service_crash;
mod tidy;
