//! Profiles: several servers, each with its own saved session.
//!
//! They are kept in `CLI_CONFIG_DIR/config.json`:
//! `{"current": "work", "profiles": {"work": {"api_url": "https://rr.example.com"}}}`.
//! The profile `default` always exists, even when the file does not; its session is
//! `CLI_CONFIG_DIR/auth.json`, where the original CLI kept it, so an existing session keeps
//! working. Any other profile's session is `CLI_CONFIG_DIR/profiles/<name>/auth.json`: logging in
//! on one server never replaces the session of another.
//!
//! Which server a command talks to: `--api-url` on the command line; else the URL of the chosen
//! profile (`--profile`, `CLI_PROFILE`, else the one `profile use` made current) when it has
//! one; else `API_URL`; else `http://localhost:8000`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::error::CliError;

pub const DEFAULT: &str = "default";
pub const DEFAULT_API_URL: &str = "http://localhost:8000";

/// One server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
}

/// The contents of `config.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profiles {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// `config.json` in a configuration directory.
#[derive(Debug, Clone)]
pub struct ProfileStore {
    dir: PathBuf,
}

impl ProfileStore {
    pub fn new(dir: PathBuf) -> ProfileStore {
        ProfileStore { dir }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("config.json")
    }

    /// The saved profiles; none saved is an empty set. A damaged file is reported.
    pub fn load(&self) -> Result<Profiles> {
        let path = self.path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| format!("{} is damaged", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Profiles::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn save(&self, profiles: &Profiles) -> Result<()> {
        fs::create_dir_all(&self.dir).with_context(|| format!("creating {}", self.dir.display()))?;
        let path = self.path();
        let temporary = self.dir.join(format!(".config.json.{}", std::process::id()));
        let text = serde_json::to_vec_pretty(profiles)?;
        fs::write(&temporary, text)
            .and_then(|()| fs::rename(&temporary, &path))
            .with_context(|| format!("saving {}", path.display()))
    }

    /// The directory holding `name`'s session.
    pub fn session_dir(&self, name: &str) -> PathBuf {
        session_dir(&self.dir, name)
    }
}

/// The directory holding `name`'s session under the configuration directory `dir`.
pub fn session_dir(dir: &Path, name: &str) -> PathBuf {
    if name == DEFAULT {
        dir.to_owned()
    } else {
        dir.join("profiles").join(name)
    }
}

/// A profile name: letters, digits, `-`, `_` and `.`, 1 to 64 of them (it names a directory).
pub fn check_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(CliError::usage(format!(
            "invalid profile name {name:?}: use 1-64 letters, digits, '-', '_' or '.'"
        )))
    }
}

/// The profile a command uses and the server it talks to.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub name: String,
    pub api_url: String,
}

/// Applies the precedence of the module documentation.
pub fn select(
    profiles: &Profiles,
    chosen: Option<&str>,
    api_url_flag: Option<&str>,
    api_url_env: Option<&str>,
) -> Result<Selection> {
    let name = chosen.or(profiles.current.as_deref()).unwrap_or(DEFAULT).to_owned();
    check_name(&name)?;
    let profile = profiles.profiles.get(&name);
    if profile.is_none() && name != DEFAULT {
        return Err(CliError::usage(format!(
            "no profile named {name:?}; add it with `profile add {name} URL`"
        )));
    }
    let api_url = api_url_flag
        .or(profile.and_then(|p| p.api_url.as_deref()))
        .or(api_url_env)
        .unwrap_or(DEFAULT_API_URL)
        .to_owned();
    Ok(Selection { name, api_url })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> Profiles {
        let mut profiles = Profiles::default();
        profiles.profiles.insert(
            "work".into(),
            Profile {
                api_url: Some("http://work".into()),
            },
        );
        profiles.profiles.insert("bare".into(), Profile::default());
        profiles
    }

    #[test]
    fn the_url_follows_the_documented_precedence() {
        let mut profiles = two();
        let pick = |p: &Profiles, chosen, flag, env| select(p, chosen, flag, env).unwrap().api_url;
        assert_eq!(pick(&profiles, None, None, None), DEFAULT_API_URL);
        assert_eq!(pick(&profiles, None, None, Some("http://env")), "http://env");
        assert_eq!(pick(&profiles, Some("work"), None, Some("http://env")), "http://work");
        assert_eq!(pick(&profiles, Some("work"), Some("http://flag"), None), "http://flag");
        assert_eq!(pick(&profiles, Some("bare"), None, Some("http://env")), "http://env");
        profiles.current = Some("work".into());
        assert_eq!(pick(&profiles, None, None, Some("http://env")), "http://work");
        assert_eq!(select(&profiles, None, None, None).unwrap().name, "work");
        assert!(select(&profiles, Some("nope"), None, None).is_err());
        assert!(select(&profiles, Some("../x"), None, None).is_err());
    }

    #[test]
    fn sessions_are_kept_apart() {
        let dir = Path::new("/cfg");
        assert_eq!(session_dir(dir, DEFAULT), Path::new("/cfg"));
        assert_eq!(session_dir(dir, "work"), Path::new("/cfg/profiles/work"));
    }

    #[test]
    fn saved_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::new(dir.path().join("c"));
        assert_eq!(store.load().unwrap(), Profiles::default());
        let mut profiles = two();
        profiles.current = Some("work".into());
        store.save(&profiles).unwrap();
        assert_eq!(store.load().unwrap(), profiles);
    }
}
