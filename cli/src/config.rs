//! The configuration directory (`CLI_CONFIG_DIR`, default `~/.reservation-cli`) and the saved
//! session in it, `auth.json`, in the Python CLI's format:
//! `{"access_token", "refresh_token", "saved_at", "expires_at"}` (times in seconds since the
//! epoch). The file is private to the user (mode 0600, in a 0700 directory) and replaced
//! atomically; refreshes are serialised between processes with a lock file, because a refresh
//! token is single-use and presenting a used one would end the whole session.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// Lifetime assumed for an access token whose expiry cannot be read (the server's default).
const ASSUMED_LIFETIME_SECONDS: f64 = 30.0 * 60.0;

/// A token is refreshed when it has less than this left.
pub const REFRESH_MARGIN_SECONDS: f64 = 60.0;

/// The default configuration directory, `~/.reservation-cli`.
pub fn default_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
        .join(".reservation-cli")
}

/// The contents of `auth.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    pub saved_at: f64,
    #[serde(default)]
    pub expires_at: Option<f64>,
}

impl Tokens {
    /// Tokens just issued at `now` (seconds); the expiry is read from the access token.
    pub fn issued(access_token: String, refresh_token: Option<String>, now: f64) -> Tokens {
        let expires_at = jwt_expiry(&access_token).unwrap_or(now + ASSUMED_LIFETIME_SECONDS);
        Tokens {
            access_token,
            refresh_token,
            saved_at: now,
            expires_at: Some(expires_at),
        }
    }

    /// When the access token expires (seconds since the epoch).
    pub fn expiry(&self) -> f64 {
        self.expires_at.unwrap_or(self.saved_at + ASSUMED_LIFETIME_SECONDS)
    }

    /// Whether the access token should be refreshed before use at `now`.
    pub fn expiring(&self, now: f64) -> bool {
        self.expiry() - now < REFRESH_MARGIN_SECONDS
    }
}

/// The `exp` claim of a JWT, without checking it (the server does).
fn jwt_expiry(token: &str) -> Option<f64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_f64()
}

/// Seconds since the epoch.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// `auth.json` in the configuration directory.
#[derive(Debug, Clone)]
pub struct TokenStore {
    dir: PathBuf,
}

impl TokenStore {
    pub fn new(dir: PathBuf) -> TokenStore {
        TokenStore { dir }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("auth.json")
    }

    /// The saved tokens, if any. A damaged file is reported, not ignored.
    pub fn load(&self) -> Result<Option<Tokens>> {
        let path = self.path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .with_context(|| format!("{} is damaged; run `auth logout` and log in again", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Saves the tokens: written to a private temporary file, then renamed over `auth.json`.
    pub fn save(&self, tokens: &Tokens) -> Result<()> {
        self.ensure_dir()?;
        let path = self.path();
        let temporary = self.dir.join(format!(".auth.json.{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut file = private_file(&temporary)?;
            file.write_all(&serde_json::to_vec_pretty(tokens)?)?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            fs::rename(&temporary, &path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&temporary);
            anyhow::Error::new(e).context(format!("saving {}", path.display()))
        })
    }

    /// Forgets the session. Nothing saved is not an error.
    pub fn clear(&self) -> Result<bool> {
        match fs::remove_file(self.path()) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e).with_context(|| format!("removing {}", self.path().display())),
        }
    }

    /// An exclusive lock between CLI processes on this directory, held until dropped.
    pub fn lock(&self) -> Result<SessionLock> {
        self.ensure_dir()?;
        let path = self.dir.join("auth.lock");
        let file = private_file_keep(&path).with_context(|| format!("opening {}", path.display()))?;
        lock_exclusive(&file).with_context(|| format!("locking {}", path.display()))?;
        Ok(SessionLock { _file: file })
    }

    fn ensure_dir(&self) -> Result<()> {
        if self.dir.is_dir() {
            return Ok(());
        }
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))
    }
}

/// Held while refreshing; the lock is released when the file is closed.
pub struct SessionLock {
    _file: File,
}

/// A new file readable and writable by the user only (truncated if it exists).
fn private_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Like [`private_file`] but keeps the contents (for the lock file).
fn private_file_keep(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(unix)]
fn lock_exclusive(file: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    loop {
        // SAFETY: flock on a file descriptor we own; it has no memory-safety preconditions.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(());
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

#[cfg(not(unix))]
fn lock_exclusive(_file: &File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(exp: i64) -> String {
        let encode = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.sig",
            encode(serde_json::json!({"alg": "HS256"})),
            encode(serde_json::json!({"exp": exp}))
        )
    }

    #[test]
    fn expiry_comes_from_the_token_or_is_assumed() {
        let tokens = Tokens::issued(jwt(2_000_000_000), Some("r".into()), 1_000.0);
        assert_eq!(tokens.expires_at, Some(2_000_000_000.0));
        let opaque = Tokens::issued("opaque".into(), None, 1_000.0);
        assert_eq!(opaque.expiry(), 1_000.0 + 1_800.0);
        assert!(!opaque.expiring(1_000.0));
        assert!(opaque.expiring(2_741.0));
    }

    #[test]
    fn saved_privately_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path().join("nested"));
        assert_eq!(store.load().unwrap(), None);
        let tokens = Tokens::issued(jwt(2_000_000_000), Some("refresh".into()), 1_000.0);
        store.save(&tokens).unwrap();
        assert_eq!(store.load().unwrap(), Some(tokens));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(store.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = fs::metadata(dir.path().join("nested")).unwrap().permissions().mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
        let text = fs::read_to_string(store.path()).unwrap();
        for key in ["access_token", "refresh_token", "saved_at", "expires_at"] {
            assert!(text.contains(key), "{key} in {text}");
        }
        drop(store.lock().unwrap());
        assert!(store.clear().unwrap());
        assert!(!store.clear().unwrap());
    }

    #[test]
    fn the_original_file_format_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path().to_owned());
        fs::write(store.path(), r#"{"access_token": "a", "saved_at": 1700000000.5}"#).unwrap();
        let tokens = store.load().unwrap().unwrap();
        assert_eq!((tokens.expiry(), tokens.refresh_token), (1_700_001_800.5, None));
        fs::write(store.path(), "{").unwrap();
        assert!(store.load().unwrap_err().to_string().contains("damaged"));
    }
}
