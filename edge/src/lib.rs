//! The REST/JSON edge: REST routes built at start from the contracts'
//! `google.api.http` annotations and transcoded to gRPC calls on the
//! services, with auth at the door, request ids, deadlines, OpenAPI and
//! upstream health. See the crate's README for the design and its choices.

pub mod app;
pub mod config;
mod docs;
mod door;
mod error;
pub mod field_rules;
mod gateway;
mod health;
mod json;
mod local_time;
mod metadata;
pub mod metrics;
mod openapi;
mod render;
mod request;
mod retry;
pub mod routes;
mod server;
mod strict_json;
mod upstream;
