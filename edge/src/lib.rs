//! The REST/JSON edge.
//!
//! For now a skeleton: it starts, reports its upstreams' gRPC health at
//! `GET /healthz`, and answers every other request with 501 and a
//! google.rpc.Status body, since REST transcoding from the contracts'
//! `google.api.http` annotations is not built yet. It never makes data up.

pub mod app;
pub mod config;
mod health;
