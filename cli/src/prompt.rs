//! Questions to the person at the terminal. Prompts are read from and written to the
//! controlling terminal (`/dev/tty`), never stdin/stdout, so they work while the output is piped
//! and never end up in a script's JSON. Passwords are read with echo turned off.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};

use anyhow::{Context, Result};

use crate::error::CliError;

fn terminal(what: &str) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| CliError::usage(format!("no terminal to ask for {what}; {}", alternative(what))))
}

fn alternative(what: &str) -> &'static str {
    match what {
        "the password" => "pass it with --password-stdin",
        "the username" => "pass --username",
        "the MFA code" => "pass --mfa-code",
        "confirmation" => "pass --yes to proceed",
        _ => "pass it as an option",
    }
}

fn read_answer(tty: &File) -> Result<String> {
    let mut line = String::new();
    BufReader::new(tty)
        .read_line(&mut line)
        .context("reading from the terminal")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Asks a question (`what` names the answer in errors: "the username").
pub fn ask(question: &str, what: &str) -> Result<String> {
    let mut tty = terminal(what)?;
    write!(tty, "{question}: ")?;
    tty.flush()?;
    let answer = read_answer(&tty)?.trim().to_owned();
    if answer.is_empty() {
        return Err(CliError::usage(format!("{what} cannot be empty")));
    }
    Ok(answer)
}

/// Asks for a secret without echoing it.
pub fn ask_secret(question: &str) -> Result<String> {
    let mut tty = terminal("the password")?;
    write!(tty, "{question}: ")?;
    tty.flush()?;
    let _echo = EchoOff::new(&tty)?;
    let answer = read_answer(&tty)?;
    drop(_echo);
    writeln!(tty)?;
    if answer.is_empty() {
        return Err(CliError::usage("the password cannot be empty"));
    }
    Ok(answer)
}

/// Asks for a new password twice.
pub fn ask_new_secret() -> Result<String> {
    let first = ask_secret("Password")?;
    let second = ask_secret("Repeat password")?;
    if first != second {
        return Err(CliError::usage("the passwords do not match"));
    }
    Ok(first)
}

/// `yes` skips the question; otherwise the person must answer y.
pub fn confirm(question: &str, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    let mut tty = terminal("confirmation")?;
    write!(tty, "{question} [y/N]: ")?;
    tty.flush()?;
    let answer = read_answer(&tty)?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(anyhow::anyhow!("Cancelled; nothing was changed"))
    }
}

/// A secret from the first line of stdin (`--password-stdin`).
pub fn secret_from_stdin() -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .lock()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .context("reading the password from stdin")?;
    let line = text.lines().next().unwrap_or_default().to_owned();
    if line.is_empty() {
        return Err(CliError::usage("--password-stdin: stdin is empty"));
    }
    Ok(line)
}

/// Turns terminal echo off until dropped.
struct EchoOff {
    #[cfg(unix)]
    fd: std::os::fd::RawFd,
    #[cfg(unix)]
    saved: libc::termios,
}

impl EchoOff {
    #[cfg(unix)]
    fn new(tty: &File) -> Result<EchoOff> {
        use std::os::fd::AsRawFd;
        let fd = tty.as_raw_fd();
        // SAFETY: termios is plain data; tcgetattr fills it for a valid descriptor we hold open.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            return Err(std::io::Error::last_os_error()).context("reading the terminal settings");
        }
        let mut silent = saved;
        silent.c_lflag &= !libc::ECHO;
        // SAFETY: as above; the settings come from tcgetattr with one flag changed.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &silent) } != 0 {
            return Err(std::io::Error::last_os_error()).context("turning terminal echo off");
        }
        Ok(EchoOff { fd, saved })
    }

    #[cfg(not(unix))]
    fn new(_tty: &File) -> Result<EchoOff> {
        Err(CliError::usage(
            "cannot hide the password on this system; use --password-stdin",
        ))
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: restores the settings read in `new` on the same descriptor.
        unsafe {
            libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved);
        }
    }
}
