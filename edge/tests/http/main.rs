//! The edge over real HTTP: a real edge on port 0 in front of real services
//! (auth-svc, and reservation, catalog and order as they stand), and of an
//! echo upstream serving the tests' own contract for the parts of the
//! mapping no Kursi contract uses yet.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod agreement;
mod auth;
mod docs_browser;
mod errors;
mod mapping;
mod metrics;
mod openapi;
mod operations;
mod plumbing;
mod seed;
mod slow_clients;
mod support;
mod traces;
mod upstream_retry;
