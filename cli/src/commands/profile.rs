//! `profile add|list|use|remove|show`: several servers, each with its own session (see
//! `crate::profiles`). These commands only edit `config.json`; they never call a server.

use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::{Value, json};

use super::Ctx;
use crate::config::TokenStore;
use crate::output::{Column, flag, text};
use crate::profiles::{self, DEFAULT, Profile, ProfileStore};

const COLUMNS: &[Column] = &[
    text("Profile", "name"),
    text("API URL", "api_url"),
    flag("Current", "current"),
    flag("Logged in", "logged_in"),
];

#[derive(Subcommand)]
pub enum Command {
    /// Add a profile, or change its server
    Add {
        /// Profile name (letters, digits, '-', '_', '.')
        name: String,
        /// The server's base URL (e.g. https://rr.example.com)
        url: String,
        /// Make it the current profile too
        #[arg(long = "use")]
        make_current: bool,
    },
    /// Every profile, its server, and whether it has a saved session
    List,
    /// Make a profile the current one (used when --profile is not given)
    Use {
        /// Profile name
        name: String,
    },
    /// Forget a profile and its saved session
    Remove {
        /// Profile name
        name: String,
    },
    /// The profile and server this command line would use
    Show,
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    let store = ProfileStore::new(ctx.config_dir.clone());
    let mut saved = store.load()?;
    match command {
        Command::Add {
            name,
            url,
            make_current,
        } => {
            profiles::check_name(&name)?;
            crate::client::check_api_url(&url)?;
            saved.profiles.insert(
                name.clone(),
                Profile {
                    api_url: Some(url.clone()),
                },
            );
            if make_current {
                saved.current = Some(name.clone());
            }
            store.save(&saved)?;
            ctx.out.ok(format!("Profile {name} → {url}"));
        }
        Command::List => {
            let current = saved.current.clone().unwrap_or_else(|| DEFAULT.into());
            let mut names: Vec<String> = saved.profiles.keys().cloned().collect();
            if !names.iter().any(|n| n == DEFAULT) {
                names.insert(0, DEFAULT.into());
            }
            let rows: Vec<Value> = names
                .iter()
                .map(|name| {
                    let url = saved.profiles.get(name).and_then(|p| p.api_url.clone());
                    let session = TokenStore::new(store.session_dir(name)).load();
                    json!({
                        "name": name,
                        "api_url": url,
                        "current": *name == current,
                        "logged_in": matches!(session, Ok(Some(_))),
                    })
                })
                .collect();
            let value = Value::Array(rows);
            ctx.out.emit(&value, |out| {
                out.rows(value.as_array().map_or(&[][..], Vec::as_slice), COLUMNS, "")
            });
        }
        Command::Use { name } => {
            profiles::check_name(&name)?;
            if name != DEFAULT && !saved.profiles.contains_key(&name) {
                return Err(crate::error::CliError::usage(format!(
                    "no profile named {name:?}; add it with `profile add {name} URL`"
                )));
            }
            saved.current = Some(name.clone());
            store.save(&saved)?;
            ctx.out.ok(format!("Now using profile {name}"));
        }
        Command::Remove { name } => {
            profiles::check_name(&name)?;
            if saved.profiles.remove(&name).is_none() {
                return Err(crate::error::CliError::usage(format!("no profile named {name:?}")));
            }
            if saved.current.as_deref() == Some(name.as_str()) {
                saved.current = None;
            }
            store.save(&saved)?;
            if name != DEFAULT {
                let dir = store.session_dir(&name);
                if dir.exists() {
                    std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
                }
            }
            ctx.out.ok(format!("Profile {name} removed"));
        }
        Command::Show => {
            let value = json!({
                "name": ctx.profile,
                "api_url": ctx.api.base_url(),
                "session": ctx.api.store().path(),
            });
            ctx.out.emit(&value, |out| {
                out.record(
                    &value,
                    &[
                        text("Profile", "name"),
                        text("API URL", "api_url"),
                        text("Session file", "session"),
                    ],
                )
            });
        }
    }
    Ok(())
}
