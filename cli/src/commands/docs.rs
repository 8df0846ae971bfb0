//! `completions SHELL` and `man [--out-dir DIR]`: generated from the command line's own
//! definition, so they can never disagree with it.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use clap_complete::Shell;

use crate::output::Output;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    resource-reserver-cli completions bash > ~/.local/share/bash-completion/completions/resource-reserver-cli\n  \
    resource-reserver-cli completions zsh > \"${fpath[1]}/_resource-reserver-cli\"\n  \
    resource-reserver-cli completions fish > ~/.config/fish/completions/resource-reserver-cli.fish")]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command (resource-reserver-cli.1, resource-reserver-cli-auth.1,
    /// resource-reserver-cli-auth-login.1, …) into this directory instead of printing the main
    /// page on standard output
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Prints the completion script for the shell.
pub fn completions(args: CompletionsArgs, mut command: clap::Command) -> Result<()> {
    let name = command.get_name().to_owned();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name, &mut script);
    crate::output::line(String::from_utf8_lossy(&script).trim_end());
    Ok(())
}

/// Prints the main man page, or writes every page into a directory.
pub fn man(args: ManArgs, command: clap::Command, out: &Output) -> Result<()> {
    match args.out_dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command).render(&mut page)?;
            crate::output::line(String::from_utf8_lossy(&page).trim_end());
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let mut command = command;
            command.build();
            let mut written = 0;
            write_pages(&command, &dir, &mut written)?;
            out.ok(format!("{written} man pages written to {}", dir.display()));
        }
    }
    Ok(())
}

/// The page of `command` and of each of its subcommands, named after their path
/// (`resource-reserver-cli-auth-login.1`).
fn write_pages(command: &clap::Command, dir: &std::path::Path, written: &mut usize) -> Result<()> {
    let man = clap_mangen::Man::new(command.clone());
    let path = dir.join(man.get_filename());
    let mut file = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    man.render(&mut file)
        .with_context(|| format!("writing {}", path.display()))?;
    *written += 1;
    // After `build`, a subcommand's display name is its full path (`resource-reserver-cli-auth`),
    // which names its page.
    for sub in command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
    {
        write_pages(sub, dir, written)?;
    }
    Ok(())
}
