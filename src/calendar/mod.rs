//! Calendar feeds and iCalendar exports of reservations (`/api/v1/calendar`).
//!
//! - [`ical`]: the RFC 5545 writer — line folding, escaping, CRLF; nothing else writes `.ics`.
//! - [`feed`]: which reservations a feed shows, and how each becomes a `VEVENT`.
//! - [`tokens`]: the secret feed tokens (derived, stored only as a digest).
//!
//! Reservations are read through `crate::reservations::queries`.

pub mod feed;
pub mod ical;
pub mod tokens;

pub use feed::{Kind, Window};
pub use tokens::{FeedKey, FeedToken};
