//! Wire formats every layer shares: how times are written and read, and lists with a maximum
//! length. Nothing here depends on anything else in the crate.

pub mod bounded;
pub mod time;
