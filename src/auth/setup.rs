//! First-run setup: who becomes the first administrator.
//!
//! Two flags in `system_settings` (`setup_complete`, `setup_reopened`).
//! The first admin comes either from `POST /setup/initialize` or from the first registration
//! while setup is incomplete. Both go through [`claim_completion`], an atomic compare-and-set on
//! `setup_complete`, inside the transaction that creates the admin: of any number of racing
//! requests exactly one wins.
//!
//! A stranger who reaches a fresh server first cannot take it over: while setup is incomplete,
//! either claim needs the setup token (`X-Setup-Token`) unless the request is local
//! (`client_ip::is_local`: a loopback TCP peer and no forwarding header). The token is logged
//! at start-up and kept, readable by the owner only, in [`TOKEN_FILE`] in the data directory
//! (servers sharing the directory share the token); the file is removed once setup is complete,
//! after which the token is never accepted.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::error::ApiError;
use crate::params;
use crate::storage::{Db, StorageError, Transaction};

pub const COMPLETE: &str = "setup_complete";
pub const REOPENED: &str = "setup_reopened";

/// Initialises the flags on first start (complete when users already exist) and, while setup
/// is incomplete, returns a fresh setup token for this run (logged by the caller).
pub async fn prepare(db: &Db, now: DateTime<Utc>) -> Result<Option<String>, StorageError> {
    let users: i64 = db
        .query_one("SELECT COUNT(*) AS n FROM users", params![])
        .await?
        .get("n")?;
    for (key, value) in [(COMPLETE, users > 0), (REOPENED, false)] {
        db.execute(
            "INSERT INTO system_settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
            params![key, value.to_string(), now],
        )
        .await?;
    }
    let (complete, _) = flags(db).await?;
    Ok((!complete).then(|| uuid::Uuid::new_v4().simple().to_string()))
}

async fn flag(db: &Db, key: &str) -> Result<bool, StorageError> {
    Ok(db
        .query_opt("SELECT value FROM system_settings WHERE key = $1", params![key])
        .await?
        .map(|row| row.get::<String>("value"))
        .transpose()?
        .is_some_and(|value| value == "true"))
}

/// `(setup_complete, setup_reopened)`.
pub async fn flags(db: &Db) -> Result<(bool, bool), StorageError> {
    Ok((flag(db, COMPLETE).await?, flag(db, REOPENED).await?))
}

pub async fn set_flag(tx: &mut dyn Transaction, key: &str, value: bool, now: DateTime<Utc>) -> Result<(), ApiError> {
    tx.execute(
        "UPDATE system_settings SET value = $2, updated_at = $3 WHERE key = $1",
        params![key, value.to_string(), now],
    )
    .await?;
    Ok(())
}

/// Marks setup complete if it was incomplete (and, with `require_not_reopened`, not reopened);
/// true for the one caller whose update took effect. On PostgreSQL the row lock makes a racing
/// transaction wait and then see `true`; on SQLite writers are serialised.
pub async fn claim_completion(
    tx: &mut dyn Transaction,
    now: DateTime<Utc>,
    require_not_reopened: bool,
) -> Result<bool, ApiError> {
    let sql = if require_not_reopened {
        "UPDATE system_settings SET value = 'true', updated_at = $1
         WHERE key = 'setup_complete' AND value = 'false'
           AND NOT EXISTS (SELECT 1 FROM system_settings WHERE key = 'setup_reopened' AND value = 'true')"
    } else {
        "UPDATE system_settings SET value = 'true', updated_at = $1 WHERE key = 'setup_complete' AND value = 'false'"
    };
    Ok(tx.execute(sql, params![now]).await? == 1)
}

/// The setup token's file in the data directory.
pub const TOKEN_FILE: &str = "setup-token";

/// A setup token as [`prepare`] makes them (32 hex digits).
fn well_formed(token: &str) -> bool {
    token.len() == 32 && token.chars().all(|c| c.is_ascii_hexdigit())
}

/// Keeps the setup token in `data_dir` (mode 0600): the one already there, if any (another
/// server on this directory, or an earlier run, made it), else `fresh`. Returns the token in
/// force and the file's path.
pub fn keep_token_file(data_dir: &Path, fresh: String) -> std::io::Result<(String, PathBuf)> {
    let path = data_dir.join(TOKEN_FILE);
    std::fs::create_dir_all(data_dir)?;
    for _ in 0..2 {
        match std::fs::read_to_string(&path) {
            Ok(existing) if well_formed(existing.trim()) => return Ok((existing.trim().to_owned(), path)),
            Ok(_) => std::fs::remove_file(&path)?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
        let mut options = std::fs::OpenOptions::new();
        // create_new: of servers starting together on one directory, one writes the file and the
        // others read it on the next turn of the loop.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut file) => {
                file.write_all(fresh.as_bytes())?;
                file.sync_all()?;
                return Ok((fresh, path));
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error),
        }
    }
    Err(std::io::Error::other(format!("{} keeps changing", path.display())))
}

/// Removes the setup token's file once setup is complete (the token is no use any more).
pub fn remove_token_file(data_dir: &Path) {
    let path = data_dir.join(TOKEN_FILE);
    match std::fs::remove_file(&path) {
        Ok(()) => tracing::info!(path = %path.display(), "setup is complete: removed the setup token file"),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => tracing::warn!(path = %path.display(), %error, "could not remove the setup token file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_file_is_private_and_shared_by_later_starts() {
        let dir = tempfile::tempdir().unwrap();
        let first = "a".repeat(32);
        let (token, path) = keep_token_file(dir.path(), first.clone()).unwrap();
        assert_eq!(
            (token.as_str(), path.clone()),
            (first.as_str(), dir.path().join(TOKEN_FILE))
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let (again, _) = keep_token_file(dir.path(), "b".repeat(32)).unwrap();
        assert_eq!(again, first, "a second server on the directory uses the same token");
        std::fs::write(&path, "garbage").unwrap();
        assert_eq!(keep_token_file(dir.path(), "c".repeat(32)).unwrap().0, "c".repeat(32));
        remove_token_file(dir.path());
        assert!(!path.exists());
    }
}
