//! Resources: the things people book.
//!
//! - [`record`]: a resource row ↔ the actors' `ResourceInfo`.
//! - [`model`]: `ResourceOut` and the live status.
//! - [`pages`]: the cache of list pages, and why it is never stale.
//! - [`queries`]: lists, searches, summaries and tags, read from the database.
//! - [`board`]: the availability board of wall screens (every resource's state now).
//! - [`blocking`]: the SQL of the reservations that block a resource's time.

pub mod blocking;
pub mod board;
pub mod fields;
pub mod import;
pub mod model;
pub mod pages;
pub mod queries;
pub mod record;
pub mod tags;
