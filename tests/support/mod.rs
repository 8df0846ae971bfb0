//! Test infrastructure shared by the integration test binaries: fresh databases per test, the
//! in-process server on port 0 ([`TestApp::builder`]), the one macro that runs a test on both
//! backends (`both_backends!`, in [`runner`]), and the real binary as a child process
//! ([`process`], shared with the CLI's tests).
#![allow(dead_code)] // each test binary uses its own part of this module

pub mod auth;
pub mod booking;
pub mod database;
pub mod process;
pub mod rate_limit;
pub mod response;
pub mod runner;
pub mod server;
pub mod smtp;
pub mod timers;
pub mod webhook_receiver;
pub mod ws;

#[allow(unused_imports)]
pub use auth::{PASSWORD, TestUser};
#[allow(unused_imports)]
pub use database::{Backend, TestDatabase};
#[allow(unused_imports)]
pub use server::{TestApp, TestAppBuilder};
