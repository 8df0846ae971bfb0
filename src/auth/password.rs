//! Passwords: the username and password rules of `/api/v1`, and argon2id hashing with OWASP's
//! parameters (m = 19456 KiB, t = 2, p = 1).
//!
//! Hashing takes tens of milliseconds of CPU and 19 MiB of memory by design, so it runs on its
//! own threads (one per CPU, see [`on_hashing_thread`]), never on an HTTP worker's event loop.

use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, LazyLock, Mutex};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{ApiError, FieldError};

/// The special characters the password policy accepts.
const SPECIAL: &str = "!@#$%^&*(),.?\":{}|<>-_=+[]\\;'/`~";

fn hasher() -> Result<Argon2<'static>, ApiError> {
    let params = Params::new(19_456, 2, 1, None).map_err(|e| ApiError::internal_context("argon2 parameters", e))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A hash of a random password, verified against when the username does not exist so that a
/// failed login takes the same time whether or not the account exists.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| hash_now("not a real password").ok());

fn hash_now(password: &str) -> Result<String, ApiError> {
    hasher()?
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::internal_context("argon2 hashing", e))
}

fn verify_now(password: &str, hash: &str) -> bool {
    hasher().is_ok_and(|argon| argon.verify_password(password.as_bytes(), hash).is_ok())
}

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads' queue. Why not the blocking pool: every hash allocates 19 MiB, and the
/// allocator keeps freed blocks in per-thread arenas, so hashes spread over the blocking pool's
/// dozens of threads left hundreds of MB resident after a burst of sign-ins (40 parallel
/// registrations: 577 MB peak, 299 MB kept; found by `loadtests/`). A fixed set of threads
/// bounds both the peak and what stays resident to one hash per CPU, and a burst of sign-ins
/// can no longer occupy the blocking pool the SQLite backend needs.
static HASHING: LazyLock<Mutex<Sender<Job>>> = LazyLock::new(|| {
    let (jobs, queue) = channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    for i in 0..threads {
        let queue = queue.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("password-hash-{i}"))
            .spawn(move || {
                loop {
                    // The lock is held only while waiting for the next job, never while hashing.
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start a password hashing thread");
        }
    }
    Mutex::new(jobs)
});

/// Runs `work` on a hashing thread and waits for its result without blocking the caller's
/// event loop.
async fn on_hashing_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    let (answer, answered) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = answer.send(work());
    });
    HASHING
        .lock()
        .map_err(|_| ApiError::Internal("password hashing queue poisoned".into()))?
        .send(job)
        .map_err(|_| ApiError::Internal("no password hashing thread".into()))?;
    answered
        .await
        .map_err(|_| ApiError::Internal("password hashing thread stopped".into()))
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of `password`.
pub async fn hash(password: &str) -> Result<String, ApiError> {
    let password = password.to_owned();
    on_hashing_thread(move || hash_now(&password)).await?
}

/// True when `password` matches `hash`; with no hash (unknown user) it spends the same time and
/// answers false.
pub async fn verify(password: &str, hash: Option<&str>) -> bool {
    let password = password.to_owned();
    let hash = hash.map(str::to_owned);
    on_hashing_thread(move || match hash {
        Some(hash) => verify_now(&password, &hash),
        None => {
            if let Some(dummy) = DUMMY_HASH.as_deref() {
                verify_now(&password, dummy);
            }
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// The longest username an account can have.
pub const MAX_USERNAME_CHARS: usize = 50;

/// The username rule (3–50 letters, digits, `-`, `_`), as a 422 message.
pub fn check_username(username: &str) -> Result<(), String> {
    if !(3..=MAX_USERNAME_CHARS).contains(&username.chars().count()) {
        return Err("Username must be 3-50 characters".into());
    }
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("Username can only contain letters, numbers, hyphens and underscores".into());
    }
    Ok(())
}

/// The password policy; every failed rule is reported, joined by "; ".
pub fn check_password(password: &str, username: Option<&str>) -> Result<(), String> {
    let mut failures = Vec::new();
    if password.chars().count() < 8 {
        failures.push("Password must be at least 8 characters");
    }
    if !password.chars().any(|c| c.is_uppercase()) {
        failures.push("Password must contain an uppercase letter");
    }
    if !password.chars().any(|c| c.is_lowercase()) {
        failures.push("Password must contain a lowercase letter");
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        failures.push("Password must contain a number");
    }
    if !password.chars().any(|c| SPECIAL.contains(c)) {
        failures.push("Password must contain a special character");
    }
    if let Some(username) = username.filter(|u| u.chars().count() >= 3)
        && password.to_lowercase().contains(&username.to_lowercase())
    {
        failures.push("Password cannot contain your username");
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// Validates a new account's username (lower-cased) and password, reporting every failure.
pub fn validate_credentials(username: &str, password: &str) -> Result<String, ApiError> {
    let mut errors = Vec::new();
    if let Err(message) = check_username(username) {
        errors.push(FieldError::value_error(&["body", "username"], message, username));
    }
    let username = username.to_lowercase();
    if let Err(message) = check_password(password, Some(&username)) {
        errors.push(FieldError::value_error(&["body", "password"], message, "********"));
    }
    if errors.is_empty() {
        Ok(username)
    } else {
        Err(ApiError::Validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failed_rule_is_reported_in_the_originals_words() {
        assert_eq!(
            check_password("abc", None).unwrap_err(),
            "Password must be at least 8 characters; Password must contain an uppercase letter; Password must \
             contain a number; Password must contain a special character"
        );
        assert_eq!(
            check_password("Alice-2024!", Some("alice")).unwrap_err(),
            "Password cannot contain your username"
        );
        assert!(check_password("Str0ng-Passw0rd!", Some("alice")).is_ok());
    }

    #[test]
    fn usernames_follow_the_original_rule() {
        assert!(check_username("ab").is_err());
        assert!(check_username("a b c").is_err());
        assert!(check_username("bob_the-builder9").is_ok());
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hash = hash_now("Str0ng-Passw0rd!").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_now("Str0ng-Passw0rd!", &hash));
        assert!(!verify_now("wrong", &hash));
    }
}
