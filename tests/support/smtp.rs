//! A tiny real SMTP server for tests (RFC 5321: EHLO/HELO, MAIL FROM, RCPT TO, DATA with
//! dot-unstuffing, RSET, NOOP, QUIT) on 127.0.0.1, port 0. It records every accepted message,
//! and can be told to answer the next N messages' DATA with a 451 (a transient failure) or a
//! 550 (a permanent one).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use resource_reserver::config::SettingsArgs;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One accepted message: envelope and the raw data (headers and body, unstuffed).
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Mail {
    /// The `Subject:` header's value.
    pub fn subject(&self) -> String {
        self.data
            .lines()
            .find_map(|line| line.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_owned()
    }
}

#[derive(Default)]
struct State {
    received: Vec<Mail>,
    /// Messages still to refuse, and with what.
    refuse: usize,
    refusal: &'static str,
    refused: usize,
}

pub struct SmtpServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, shared.clone()));
            }
        });
        SmtpServer { port, state }
    }

    /// The next `n` messages are answered `451` at the end of DATA.
    pub fn refuse_next(&self, n: usize) {
        self.refuse_with(n, "451 4.3.0 Try again later\r\n");
    }

    /// The next `n` messages are answered `550` at the end of DATA.
    pub fn reject_next(&self, n: usize) {
        self.refuse_with(n, "550 5.1.1 No such mailbox\r\n");
    }

    fn refuse_with(&self, n: usize, refusal: &'static str) {
        let mut state = self.state.lock().unwrap();
        (state.refuse, state.refusal) = (n, refusal);
    }

    pub fn refused(&self) -> usize {
        self.state.lock().unwrap().refused
    }

    pub fn received(&self) -> Vec<Mail> {
        self.state.lock().unwrap().received.clone()
    }

    /// Messages received for `address`.
    pub fn to(&self, address: &str) -> Vec<Mail> {
        self.received()
            .into_iter()
            .filter(|mail| mail.to.iter().any(|to| to == address))
            .collect()
    }

    /// Waits (up to 10 s) until `address` has received `count` messages, and returns them.
    pub async fn wait_for(&self, address: &str, count: usize) -> Vec<Mail> {
        for _ in 0..200 {
            let mails = self.to(address);
            if mails.len() >= count {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{address} did not receive {count} message(s); received: {:?}",
            self.received()
        );
    }
}

/// `<addr>` out of `MAIL FROM:<addr>` / `RCPT TO:<addr> …`.
fn path(argument: &str) -> String {
    let start = argument.find('<').map_or(0, |i| i + 1);
    let end = argument[start..].find('>').map_or(argument.len(), |i| start + i);
    argument[start..end].to_owned()
}

async fn session(stream: TcpStream, state: Arc<Mutex<State>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut from = String::new();
    let mut to = Vec::new();
    if write.write_all(b"220 test-smtp ESMTP\r\n").await.is_err() {
        return;
    }
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-test-smtp\r\n250 8BITMIME\r\n".into()
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            "250 OK\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            from = path(&line[10..]);
            to.clear();
            "250 OK\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            to.push(path(&line[8..]));
            "250 OK\r\n".into()
        } else if upper.starts_with("RSET") {
            from.clear();
            to.clear();
            "250 OK\r\n".into()
        } else if upper.starts_with("DATA") {
            if write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await
                .is_err()
            {
                return;
            }
            let mut data = Vec::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                // Dot-unstuffing (RFC 5321 §4.5.2).
                data.push(line.strip_prefix('.').unwrap_or(&line).to_owned());
            }
            let mut state = state.lock().unwrap();
            if state.refuse > 0 {
                state.refuse -= 1;
                state.refused += 1;
                state.refusal.into()
            } else {
                state.received.push(Mail {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data: data.join("\n"),
                });
                "250 OK queued\r\n".into()
            }
        } else if upper.starts_with("QUIT") {
            let _ = write.write_all(b"221 Bye\r\n").await;
            return;
        } else {
            "502 Command not implemented\r\n".into()
        };
        if write.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Day-long tokens, and e-mail through the test SMTP server on `port` in plain SMTP.
pub fn mailing(port: u16) -> impl FnOnce(&mut SettingsArgs) {
    move |args| {
        args.access_token_expire_minutes = Some("1440".into());
        args.email_enabled = Some("true".into());
        args.smtp_host = Some("127.0.0.1".into());
        args.smtp_port = Some(port.to_string());
        args.smtp_tls = Some("false".into());
    }
}
