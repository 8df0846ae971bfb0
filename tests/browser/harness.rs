//! The browser side of the browser tests: one chromedriver per test process, a fresh headless
//! Chromium session per [`Browser`] (its own empty profile directory), and the helpers a flow
//! needs to act and look as a person does.
//!
//! Guarantees:
//! - Without Chromium and chromedriver the tests are skipped with a loud message, unless
//!   `RR_REQUIRE_BROWSER=1` (set by `.ci/run`), which makes them fail instead ([`driver`]).
//! - Every session ends with a screenshot in `target/browser-artifacts/<label>.png` — the final
//!   state of the flow, or the state it failed in — and is closed, also when the test panics
//!   (both happen in `Drop`, over a separate connection).
//! - Waits are waits for a condition with a generous timeout ([`Browser::wait_until`]), never
//!   timed assertions: a slow machine makes a test slower, not red.
//!
//! Chromium runs with the flags this machine needs (`/work/.library/env/machines/rust-svc.md`):
//! no sandbox (root), no GPU, no QUIC, no background networking (the network is closed), and
//! `TZ=UTC`, English, 1280×900 unless a test asks otherwise.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::support::{Backend, TestApp};

/// How long a wait may take before the test fails (a condition, not a timing budget).
pub const WAIT: Duration = Duration::from_secs(20);

/// The vendored axe-core (see `vendor/README.md`).
const AXE: &str = include_str!("vendor/axe.min.js");

/// The running chromedriver of this process.
pub struct Driver {
    pub url: String,
    chromium: PathBuf,
}

fn find_program(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(variable) {
        return Some(PathBuf::from(path)).filter(|p| p.exists());
    }
    let paths = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&paths)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// The process's chromedriver, started on first use; `None` (after a loud message) when Chromium
/// or chromedriver is missing and `RR_REQUIRE_BROWSER` is not `1`.
pub fn driver() -> Option<&'static Driver> {
    static DRIVER: OnceLock<Option<Driver>> = OnceLock::new();
    DRIVER.get_or_init(start_driver).as_ref()
}

fn start_driver() -> Option<Driver> {
    let required = std::env::var("RR_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let chromium = find_program("RR_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]);
    let chromedriver = find_program("RR_CHROMEDRIVER", &["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        let message = "browser tests need Chromium and chromedriver \
                       (Debian: apt-get install chromium chromium-driver; or set RR_CHROMIUM and RR_CHROMEDRIVER)";
        assert!(!required, "RR_REQUIRE_BROWSER=1 but {message}");
        eprintln!("\n!!!!!!!! SKIPPED: {message}. Set RR_REQUIRE_BROWSER=1 to make this a failure. !!!!!!!!\n");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port for chromedriver")
        .port();
    // chromedriver is started from a thread that lives as long as the process, and is killed
    // when that thread dies (PR_SET_PDEATHSIG), so no chromedriver outlives its test process.
    let (started, outcome) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("chromedriver".into())
        .spawn(move || {
            let mut command = Command::new(&chromedriver);
            command
                .arg(format!("--port={port}"))
                .env("TZ", "UTC")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            #[cfg(target_os = "linux")]
            unsafe {
                use std::os::unix::process::CommandExt;
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let child = command.spawn();
            let _ = started.send(child.map(|_| ()));
            loop {
                std::thread::park();
            }
        })
        .expect("a thread for chromedriver");
    if let Err(error) = outcome.recv().expect("chromedriver's start") {
        panic!("starting chromedriver: {error}");
    }
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Driver { url, chromium })
}

/// The name of an artefact file for a test on a backend: `<test>-<backend>`.
pub fn label(module_path: &str, backend: Backend) -> String {
    // `browser::setup_flow::setup_sign_in_and_book` → `setup_sign_in_and_book`
    let test = module_path.rsplit("::").next().unwrap_or(module_path);
    let backend = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    format!("{test}-{backend}")
}

/// `target/browser-artifacts/` (beside the test binary's `debug/`).
pub fn artifacts_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/debug/deps/browser-… → target
    let target = exe
        .ancestors()
        .nth(3)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    let dir = target.join("browser-artifacts");
    std::fs::create_dir_all(&dir).expect("creating target/browser-artifacts");
    dir
}

/// One headless Chromium session on a fresh profile, pointed at one server.
pub struct Browser {
    pub client: Client,
    /// `http://127.0.0.1:<port>` of the server under test.
    pub base: String,
    label: String,
    driver_url: String,
    session_id: String,
    _profile: tempfile::TempDir,
}

/// What a session is opened with.
pub struct Options {
    pub width: u32,
    pub height: u32,
    /// `Accept-Language` of the browser.
    pub accept_language: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            width: 1280,
            height: 900,
            accept_language: "en-US,en",
        }
    }
}

impl Browser {
    /// A fresh session on `app`, whose screenshot will be `target/browser-artifacts/<label>.png`.
    pub async fn open(driver: &Driver, app: &TestApp, label: &str) -> Browser {
        Browser::open_with(driver, &app.address, label, Options::default()).await
    }

    pub async fn open_with(driver: &Driver, base: &str, label: &str, options: Options) -> Browser {
        let profile = tempfile::Builder::new()
            .prefix("rr-chromium-")
            .tempdir()
            .expect("a profile directory");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": driver.chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.path().display()),
                    format!("--window-size={},{}", options.width, options.height),
                    format!("--accept-lang={}", options.accept_language),
                    "--lang=en-US",
                ],
                "prefs": {"intl.accept_languages": options.accept_language},
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|error| panic!("a Chromium session through chromedriver: {error}"));
        let session_id = client.session_id().await.expect("the session id").expect("a session");
        Browser {
            client,
            base: base.trim_end_matches('/').to_owned(),
            label: label.to_owned(),
            driver_url: driver.url.clone(),
            session_id,
            _profile: profile,
        }
    }

    /// Loads `/#<hash>` (a fresh document) and waits for the first render.
    pub async fn goto(&self, hash: &str) {
        let hash = hash.trim_start_matches('#');
        let url = format!("{}/#{hash}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
        // Navigating within the same document only changes the hash: reload to start fresh.
        self.client.refresh().await.expect("reloading");
        self.wait_ready().await;
    }

    /// Changes the hash in the current document, as a click on a link does (no reload).
    pub async fn navigate(&self, hash: &str) {
        let hash = hash.trim_start_matches('#');
        self.js("location.hash = arguments[0]; return null;", vec![json!(hash)])
            .await;
    }

    /// Waits until the application rendered its first page (`html[data-ready="true"]`).
    pub async fn wait_ready(&self) {
        self.wait_until("the page to be ready (html[data-ready=true])", || async {
            self.js("return document.documentElement.dataset.ready === 'true';", vec![])
                .await
                .as_bool()
                .filter(|ready| *ready)
        })
        .await;
    }

    /// Polls `check` until it yields `Some`, for at most [`WAIT`]; fails naming `what` (and
    /// saving the screenshot, through `Drop`).
    pub async fn wait_until<T, F, Fut>(&self, what: &str, check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        self.wait_until_within(WAIT, what, check).await
    }

    /// [`Browser::wait_until`] with its own limit, for the few pages whose first render is
    /// heavy work for a shared CPU (ReDoc lays out the whole API document at once).
    pub async fn wait_until_within<T, F, Fut>(&self, limit: Duration, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(value) = check().await {
                return value;
            }
            if Instant::now() > deadline {
                let flash = self.flash_text().await;
                panic!(
                    "[{}] waited {limit:?} for {what}; page {}; flash: {flash:?}",
                    self.label,
                    self.client
                        .current_url()
                        .await
                        .map(|u| u.to_string())
                        .unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("[{}] script failed: {e}\n{}", self.label, short(script)))
    }

    /// The CSS selector of `[data-test="…"]`.
    pub fn sel(test: &str) -> String {
        format!("[data-test=\"{test}\"]")
    }

    /// Every element matching a CSS selector now (no wait).
    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap_or_default()
    }

    /// Waits for a visible element matching a CSS selector.
    pub async fn find_css(&self, css: &str) -> Element {
        self.wait_until(&format!("a visible {css}"), || async {
            for element in self.all(css).await {
                if element.is_displayed().await.unwrap_or(false) {
                    return Some(element);
                }
            }
            None
        })
        .await
    }

    /// Waits for a visible `[data-test=…]`.
    pub async fn find(&self, test: &str) -> Element {
        self.find_css(&Browser::sel(test)).await
    }

    /// Whether a visible `[data-test=…]` is on the page now (no wait).
    pub async fn shows(&self, test: &str) -> bool {
        for element in self.all(&Browser::sel(test)).await {
            if element.is_displayed().await.unwrap_or(false) {
                return true;
            }
        }
        false
    }

    /// Types `value` into the input `[data-test=…]`, as a person does (after clearing it).
    pub async fn fill(&self, test: &str, value: &str) {
        let input = self.find(test).await;
        input.clear().await.unwrap_or_else(|e| panic!("clearing {test}: {e}"));
        input
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("typing into {test}: {e}"));
    }

    /// Sets an input's value and fires `input` and `change` (for `datetime-local`, `<select>`
    /// and file-less controls, whose typing depends on the browser's locale).
    pub async fn set_value(&self, test: &str, value: &str) {
        let input = self.find(test).await;
        self.client
            .execute(
                "const el = arguments[0]; el.value = arguments[1];
                 el.dispatchEvent(new Event('input', {bubbles: true}));
                 el.dispatchEvent(new Event('change', {bubbles: true}));",
                vec![
                    serde_json::to_value(&input).expect("an element reference"),
                    json!(value),
                ],
            )
            .await
            .unwrap_or_else(|e| panic!("setting {test}: {e}"));
    }

    /// Clicks `[data-test=…]` (waiting for it to be visible).
    pub async fn click(&self, test: &str) {
        let element = self.find(test).await;
        self.click_element(&element, test).await;
    }

    pub async fn click_element(&self, element: &Element, what: &str) {
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("[{}] clicking {what}: {e}", self.label));
    }

    /// The visible text of `[data-test=…]` (waiting for it).
    pub async fn text(&self, test: &str) -> String {
        self.find(test).await.text().await.unwrap_or_default()
    }

    /// Waits until `[data-test=…]` shows text containing `needle`, and returns the text.
    pub async fn wait_for_text(&self, test: &str, needle: &str) -> String {
        self.wait_until(&format!("[data-test={test}] to contain {needle:?}"), || async {
            for element in self.all(&Browser::sel(test)).await {
                let text = element.text().await.unwrap_or_default();
                if text.contains(needle) {
                    return Some(text);
                }
            }
            None
        })
        .await
    }

    /// The texts of every flash message shown now.
    pub async fn flash_text(&self) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.all(&Browser::sel("flash")).await {
            texts.push(element.text().await.unwrap_or_default());
        }
        texts
    }

    /// Signs in through `#/signin` and waits until the shell shows the user's name.
    pub async fn sign_in(&self, username: &str, password: &str) {
        self.goto("/signin").await;
        self.fill("signin-username", username).await;
        self.fill("signin-password", password).await;
        self.click("signin-submit").await;
        self.wait_for_text("nav-user", username).await;
    }

    /// Marks the current document (a property on `window`); [`Browser::still_same_document`]
    /// then tells whether the page was reloaded since.
    pub async fn mark_document(&self) {
        self.js("window.__rrTestMarker = 'kept'; return null;", vec![]).await;
    }

    pub async fn still_same_document(&self) -> bool {
        self.js("return window.__rrTestMarker === 'kept';", vec![]).await == json!(true)
    }

    /// Chooses a theme through the shell's theme selector.
    pub async fn choose_theme(&self, theme: &str) {
        self.set_value("theme-select", theme).await;
        self.wait_until(&format!("theme {theme}"), || async {
            (self.js("return document.documentElement.dataset.theme;", vec![]).await == json!(theme)).then_some(())
        })
        .await;
    }

    /// axe-core's violations of WCAG 2.0 and 2.1, A and AA, on the current page (each
    /// `{id, impact, help, helpUrl, nodes: [{target, html, summary}]}`).
    pub async fn axe_violations(&self, page: &str) -> Vec<Value> {
        let loaded = self
            .js(
                &format!("{AXE}\n;return typeof window.axe === 'object' ? 'ok' : 'missing';"),
                vec![],
            )
            .await;
        assert_eq!(loaded, json!("ok"), "axe-core did not load");
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 window.axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
                   .then((r) => done({violations: r.violations.map((v) => ({
                       id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                       nodes: v.nodes.map((n) => ({target: n.target.join(' '), html: n.html, summary: n.failureSummary}))}))}))
                   .catch((e) => done({error: String(e)}));",
                vec![],
            )
            .await
            .unwrap_or_else(|e| panic!("running axe-core on {page}: {e}"));
        if let Some(error) = result.get("error") {
            panic!("axe-core failed on {page}: {error}");
        }
        result["violations"].as_array().cloned().unwrap_or_default()
    }

    /// Runs axe-core (WCAG 2.0 and 2.1, A and AA) on the current page and fails listing every
    /// violation readably (rule, impact, help, the offending elements and axe's summary).
    pub async fn assert_accessible(&self, page: &str) {
        let violations = self.axe_violations(page).await;
        if violations.is_empty() {
            return;
        }
        let mut report = format!(
            "[{}] axe-core found {} violation(s) on {page}:\n",
            self.label,
            violations.len()
        );
        for violation in &violations {
            report.push_str(&format!(
                "\n- {} ({}): {}\n  {}\n",
                violation["id"].as_str().unwrap_or("?"),
                violation["impact"].as_str().unwrap_or("?"),
                violation["help"].as_str().unwrap_or(""),
                violation["helpUrl"].as_str().unwrap_or("")
            ));
            for node in violation["nodes"].as_array().into_iter().flatten().take(8) {
                report.push_str(&format!(
                    "    at {}\n      {}\n      {}\n",
                    node["target"].as_str().unwrap_or(""),
                    short(node["html"].as_str().unwrap_or("")),
                    node["summary"].as_str().unwrap_or("").replace('\n', "\n      ")
                ));
            }
        }
        self.save_screenshot(&format!(
            "{}-axe-{}",
            self.label,
            page.replace(['/', '#', '?', ' '], "_")
        ))
        .await;
        panic!("{report}");
    }

    /// `window.__rrMissingTranslations` (a `Set` of the `lang:area.key` looked up and not
    /// found), as a sorted list.
    pub async fn missing_translations(&self) -> Vec<String> {
        let found = self
            .js(
                "return Array.from(window.__rrMissingTranslations || []).map(String);",
                vec![],
            )
            .await;
        let mut keys: Vec<String> = serde_json::from_value(found).unwrap_or_default();
        keys.sort();
        keys
    }

    /// Saves a screenshot of the page now as `target/browser-artifacts/<name>.png`.
    pub async fn save_screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = artifacts_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("writing the screenshot");
        path
    }
}

fn short(text: &str) -> String {
    let text = text.replace('\n', " ");
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

impl Drop for Browser {
    /// Saves the final (or failing) state as `<label>.png` and closes the session, over a fresh
    /// connection on a thread of its own: this also runs while a failing test unwinds.
    fn drop(&mut self) {
        let session = format!("{}/session/{}", self.driver_url, self.session_id);
        let path = artifacts_dir().join(format!("{}.png", self.label));
        let failing = std::thread::panicking();
        let closing = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async move {
                let client = crate::support::server::http_client();
                let shot = client
                    .get(format!("{session}/screenshot"))
                    .timeout(Duration::from_secs(20))
                    .send()
                    .await;
                if let Ok(shot) = shot
                    && let Ok(body) = shot.json::<Value>().await
                    && let Some(png) = body["value"].as_str()
                {
                    use base64::Engine;
                    if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(png) {
                        let _ = std::fs::write(&path, bytes);
                        if failing {
                            eprintln!("screenshot of the failure: {}", path.display());
                        }
                    }
                }
                let _ = client.delete(&session).timeout(Duration::from_secs(20)).send().await;
            });
        });
        let _ = closing.join();
    }
}

/// Opens a browser for the test whose `module_path!()` is given, on `app`; `None` when browser
/// tests are skipped. The screenshot is `<test>-<backend><suffix>.png`.
pub async fn open(app: &TestApp, module_path: &str, suffix: &str) -> Option<Browser> {
    let driver = driver()?;
    let backend = app.database().backend();
    Some(Browser::open(driver, app, &format!("{}{suffix}", label(module_path, backend))).await)
}

impl Browser {
    /// Waits until the page's main view (`#view`) shows `needle`.
    pub async fn wait_for_text_anywhere(&self, needle: &str) {
        self.wait_until(&format!("the page to show {needle:?}"), || async {
            let text = self
                .js(
                    "return (document.getElementById('view') || document.body).innerText;",
                    vec![],
                )
                .await;
            text.as_str().is_some_and(|t| t.contains(needle)).then_some(())
        })
        .await;
    }
}
