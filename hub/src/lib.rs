//! The Jemput kelurahan hub as a library: the HTTP API (`api::app`), its storage (SQLite or PostgreSQL), set-up
//! and the demo. The `jemput-hub` binary is a thin CLI over it; the cross-component tests start
//! it in-process on loopback.

pub mod api;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod isolation;
pub mod serve;
pub mod setup;
pub mod storage;
pub mod testing;
pub mod web;
