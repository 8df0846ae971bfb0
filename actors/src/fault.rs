//! [`Fault`]: a server fault with its cause chain, for errors that must stay `Clone` (they are
//! answered to several waiters, or kept per request). It is transparent: it displays as its
//! error and reports that error's source, so a chain printed through it loses nothing.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

type Cause = dyn Error + Send + Sync + 'static;

#[derive(Clone)]
pub struct Fault(Arc<Cause>);

impl Fault {
    /// A fault that is `error` (any error, or a message).
    pub fn new(error: impl Into<Box<Cause>>) -> Fault {
        Fault(Arc::from(error.into()))
    }

    /// A fault that says what failed (`context`) and keeps `cause` as its source.
    pub fn context(context: impl Into<String>, cause: impl Into<Box<Cause>>) -> Fault {
        Fault::new(Context {
            context: context.into(),
            cause: cause.into(),
        })
    }
}

impl From<String> for Fault {
    fn from(message: String) -> Fault {
        Fault::new(message)
    }
}

impl From<&str> for Fault {
    fn from(message: &str) -> Fault {
        Fault::new(message)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl Error for Fault {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

/// Faults are equal only if they are the same fault (errors are not comparable in general).
impl PartialEq for Fault {
    fn eq(&self, other: &Fault) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Debug)]
struct Context {
    context: String,
    cause: Box<Cause>,
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)
    }
}

impl Error for Context {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.cause)
    }
}

/// `error` and its causes, one per line ("Caused by:"), for the log.
pub fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str("\nCaused by:\n\t");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_names_every_cause_once() {
        let io = std::io::Error::other("disk full");
        let fault = Fault::context("writing the outbox", io);
        assert_eq!(chain(&fault), "writing the outbox\nCaused by:\n\tdisk full");
        assert_eq!(chain(&Fault::from("plain")), "plain");
    }
}
