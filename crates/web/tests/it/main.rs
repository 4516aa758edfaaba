//! The web layer's integration tests, linked into one binary: each module drives the real
//! server (`common::TestApp`) over HTTP.

mod api;
mod catalog;
mod common;
mod exchange;
mod gateway;
mod instant;
mod lake;
mod licenses;
mod matching;
mod notices;
mod openapi_and_pages;
mod persons;
mod profiles;
mod security;
mod service;
