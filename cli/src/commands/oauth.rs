//! `oauth create|list|delete`: the OAuth2 clients of your applications (the original's commands).

use anyhow::Result;
use clap::Subcommand;
use serde_json::{Value, json};

use super::{Ctx, Yes, show_done, show_list};
use crate::output::{Column, list, text, time};
use crate::prompt;

const COLUMNS: &[Column] = &[
    text("ID", "id"),
    text("Client ID", "client_id"),
    text("Name", "client_name"),
    list("Redirect URIs", "redirect_uris"),
    text("Grant types", "grant_types"),
    text("Scope", "scope"),
    time("Created", "created_at"),
];

#[derive(Subcommand)]
pub enum Command {
    /// Register a client; its secret is shown once
    Create {
        /// The application's name
        name: String,
        /// Where users are sent back after authorising (repeat for several)
        #[arg(required = true)]
        redirect_uris: Vec<String>,
        /// Grant types, space-separated
        #[arg(long, short = 'g', default_value = "authorization_code")]
        grant_types: String,
        /// Scopes, space-separated
        #[arg(long, short = 's', default_value = "read write")]
        scope: String,
    },
    /// Your clients
    List,
    /// Delete a client: its tokens stop working
    Delete {
        /// Its client_id
        // Client ids are base64url, so one in 32 starts with `-`: it is the id, not an option.
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[command(flatten)]
        yes: Yes,
    },
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Create {
            name,
            redirect_uris,
            grant_types,
            scope,
        } => {
            let body = json!({
                "client_name": name,
                "redirect_uris": redirect_uris,
                "grant_types": grant_types,
                "scope": scope,
            });
            let client: Value = ctx.api.post("/api/v1/oauth/clients").json(&body).send().await?;
            ctx.out.emit(&client, |out| {
                out.record(
                    &client,
                    &[
                        text("Client ID", "client_id"),
                        text("Client secret", "client_secret"),
                        text("Name", "client_name"),
                        list("Redirect URIs", "redirect_uris"),
                        text("Grant types", "grant_types"),
                        text("Scope", "scope"),
                    ],
                );
                out.warn("Save the client secret now: it will not be shown again.");
            });
        }
        Command::List => {
            let clients: Value = ctx.api.get("/api/v1/oauth/clients").send().await?;
            show_list(ctx, &clients, "clients", COLUMNS, "No OAuth2 clients.");
        }
        Command::Delete { client_id, yes } => {
            prompt::confirm(&format!("Delete OAuth2 client {client_id}?"), yes.yes)?;
            let answer: Value = ctx
                .api
                .delete(format!("/api/v1/oauth/clients/{client_id}"))
                .send()
                .await?;
            show_done(ctx, &answer, "OAuth2 client deleted");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Harness {
        #[command(subcommand)]
        command: Command,
    }

    #[test]
    fn a_client_id_that_starts_with_a_hyphen_is_the_id() {
        let harness = Harness::try_parse_from(["oauth", "delete", "-wX2k_9", "-y"]).unwrap();
        let Command::Delete { client_id, yes } = harness.command else {
            panic!("not parsed as a delete");
        };
        assert_eq!(client_id, "-wX2k_9");
        assert!(yes.yes, "the option after the id is still an option");
    }
}
