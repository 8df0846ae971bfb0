//! The files in `deploy/` against the real server, so that they work as written:
//! - every metric a Grafana panel, a Grafana variable or a Prometheus rule queries is one the
//!   server exports (after it has answered requests, so the labelled series exist), and every
//!   route a query names is a declared route;
//! - the Compose file follows the Compose specification (`compose_spec`'s types), the files it
//!   mounts exist, and Prometheus scrapes the port the server serves `/metrics` on;
//! - every variable the Dockerfile, the Compose file and the Kubernetes manifests set is a
//!   setting the server reads;
//! - the image's health check, `resource-reserver healthcheck`, says healthy only for a server
//!   that answers and whose database answers.
//!
//! The PromQL is not parsed in full: [`metric_names`] takes out strings, label matchers, ranges,
//! grouping clauses, functions and keywords, and what is left is metric names. The test of the
//! helper pins the forms the dashboard and the rules use.

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Value, json};
use serde_yaml::Value as Yaml;
use support::booking::at;
use support::process::{ServerProcess, server_command};
use support::{Backend, TestApp, TestDatabase};

/// Series Prometheus records itself for every scrape target, not the server.
const RECORDED_BY_PROMETHEUS: &[&str] = &["up"];

fn deploy_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy").join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(deploy_file(path)).unwrap_or_else(|error| panic!("reading deploy/{path}: {error}"))
}

fn yaml_documents(path: &str) -> Vec<Yaml> {
    serde_yaml::Deserializer::from_str(&read(path))
        .map(|document| Yaml::deserialize(document).unwrap_or_else(|error| panic!("deploy/{path}: {error}")))
        .collect()
}

/// Every PromQL query of the Grafana dashboards: the panels' `expr`, and the metric of each
/// `label_values(metric, label)` variable.
fn grafana_queries() -> Vec<(String, String)> {
    let mut queries = Vec::new();
    let dashboards = std::fs::read_dir(deploy_file("grafana/dashboards")).expect("deploy/grafana/dashboards");
    for entry in dashboards {
        let path = entry.expect("a dashboard file").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).expect("a readable dashboard");
        let dashboard: Value = serde_json::from_str(&text).unwrap_or_else(|error| panic!("{name}: {error}"));
        collect_exprs(&dashboard["panels"], &name, &mut queries);
        for variable in dashboard["templating"]["list"].as_array().into_iter().flatten() {
            if variable["type"] == "query" {
                let query = variable["query"].as_str().expect("a variable's query is a string");
                let metric = query
                    .strip_prefix("label_values(")
                    .and_then(|rest| rest.split(',').next())
                    .unwrap_or_else(|| panic!("{name}: variable query {query:?} is not label_values(metric, label)"));
                queries.push((
                    format!("{name}: variable {}", variable["name"]),
                    metric.trim().to_owned(),
                ));
            }
        }
    }
    assert!(!queries.is_empty(), "no dashboard queries found");
    queries
}

fn collect_exprs(value: &Value, origin: &str, queries: &mut Vec<(String, String)>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(expr)) = object.get("expr") {
                let title = object.get("refId").and_then(Value::as_str).unwrap_or("?");
                queries.push((format!("{origin}: target {title}"), expr.clone()));
            }
            let origin = object
                .get("title")
                .and_then(Value::as_str)
                .map_or(origin.to_owned(), |title| format!("{origin}: panel {title:?}"));
            object.values().for_each(|child| collect_exprs(child, &origin, queries));
        }
        Value::Array(items) => items.iter().for_each(|item| collect_exprs(item, origin, queries)),
        _ => {}
    }
}

/// Every `expr` of the Prometheus rules.
fn prometheus_rule_queries() -> Vec<(String, String)> {
    let mut queries = Vec::new();
    for document in yaml_documents("prometheus/alerts.yml") {
        for group in document["groups"].as_sequence().expect("rule groups") {
            for rule in group["rules"].as_sequence().expect("rules") {
                let name = rule["alert"].as_str().or(rule["record"].as_str()).expect("a rule name");
                let expr = rule["expr"].as_str().expect("a rule expression");
                queries.push((format!("alerts.yml: {name}"), expr.to_owned()));
            }
        }
    }
    assert!(!queries.is_empty(), "no Prometheus rules found");
    queries
}

/// The metric names a PromQL expression reads.
fn metric_names(expr: &str) -> BTreeSet<String> {
    const GROUPING: &[&str] = &["by", "without", "on", "ignoring", "group_left", "group_right"];
    const KEYWORDS: &[&str] = &["and", "or", "unless", "bool", "offset", "inf", "nan", "start", "end"];
    let bare = strip_enclosed(&strip_strings(expr));
    let tokens = tokens(&bare);
    let mut names = BTreeSet::new();
    let mut index = 0;
    while index < tokens.len() {
        let token = tokens[index].as_str();
        // A function or an aggregation: `rate(`, `sum(`, `sum by (le) (`.
        let called = tokens
            .get(index + 1)
            .is_some_and(|next| next == "(" || ((next == "by" || next == "without") && !GROUPING.contains(&token)));
        if GROUPING.contains(&token) && tokens.get(index + 1).is_some_and(|next| next == "(") {
            // Skip the label list.
            index = tokens[index..]
                .iter()
                .position(|t| t == ")")
                .map_or(tokens.len(), |end| index + end);
        } else if is_identifier(token) && !called && !KEYWORDS.contains(&token) {
            names.insert(token.to_owned());
        }
        index += 1;
    }
    names
}

/// The expression with its string literals blanked (they hold label values and regexes).
fn strip_strings(expr: &str) -> String {
    let mut out = String::new();
    let mut quote = None;
    let mut escaped = false;
    for c in expr.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                    out.push(' ');
                }
            }
            None if matches!(c, '"' | '\'' | '`') => quote = Some(c),
            None => out.push(c),
        }
    }
    out
}

/// The expression without `{…}` (label matchers) and `[…]` (ranges and subqueries).
fn strip_enclosed(expr: &str) -> String {
    let mut depth = 0usize;
    let mut out = String::new();
    for c in expr.chars() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                out.push(' ');
            }
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Identifiers, numbers (with their unit or exponent: `5m`, `1e3`), `$variables` and single
/// punctuation characters.
fn tokens(expr: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        let mut token = c.to_string();
        if c.is_alphanumeric() || matches!(c, '_' | ':' | '$' | '.') {
            while let Some(&next) = chars.peek() {
                if !(next.is_alphanumeric() || matches!(next, '_' | ':' | '.')) {
                    break;
                }
                token.push(next);
                chars.next();
            }
        }
        tokens.push(token);
    }
    tokens
}

fn is_identifier(token: &str) -> bool {
    token.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// The values a query's `route="…"` and `route=~"a|b"` matchers name.
fn route_matchers(expr: &str) -> Vec<String> {
    let mut routes = Vec::new();
    for (operator, alternatives) in [("route=\"", false), ("route=~\"", true)] {
        for (start, _) in expr.match_indices(operator) {
            let rest = &expr[start + operator.len()..];
            let value = &rest[..rest.find('"').expect("a closed string")];
            if alternatives {
                routes.extend(value.split('|').map(str::to_owned));
            } else {
                routes.push(value.to_owned());
            }
        }
    }
    routes
}

/// The names of the series in a Prometheus text exposition.
fn exported_series(exposition: &str) -> BTreeSet<String> {
    exposition
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| line.split(['{', ' ']).next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn metric_names_reads_the_forms_the_dashboards_and_rules_use() {
    let names = |expr: &str| metric_names(expr).into_iter().collect::<Vec<_>>();
    assert_eq!(
        names(
            r#"histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{job="$job"}[$__rate_interval])))"#
        ),
        ["http_request_duration_seconds_bucket"]
    );
    assert_eq!(names(r#"up{job="resource-reserver"} == 0"#), ["up"]);
    assert_eq!(
        names("sum(rate(a_total[5m])) / on(instance) group_left(x) b offset 5m > bool 1e3 and c unless d"),
        ["a_total", "b", "c", "d"]
    );
    assert_eq!(names("sum without (le) (x) or max(y) by (route)"), ["x", "y"]);
    assert_eq!(names(r#"count(z{route=~"a|b", x='it\'s'})"#), ["z"]);
    assert_eq!(
        route_matchers(r#"x{route=~"/a|/b/{id}", method="POST"} + y{route="/c"}"#),
        ["/c", "/a", "/b/{id}"]
    );
}

/// Makes the server answer requests of the kinds the panels look at (a booking, a conflict, a
/// cancellation, an error), so that its labelled series exist, and returns `/metrics`.
async fn exercised_server_metrics(app: &TestApp) -> String {
    let admin = app.admin().await;
    let room = app.resource(&admin, "Room 1").await;
    let booked = app.book(&admin, room, &at(10, 0), &at(11, 0)).await;
    assert_eq!(booked.status(), 201);
    let booked: Value = booked.json().await.expect("JSON");
    assert_eq!(app.book(&admin, room, &at(10, 0), &at(11, 0)).await.status(), 409);
    let cancel = format!("/api/v1/reservations/{}/cancel", booked["id"]);
    assert_eq!(app.post_json_as(&admin, &cancel, &json!({})).await.status(), 200);
    assert_eq!(app.get("/no/such/page").await.status(), 404);
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status(), 200);
    metrics.text().await.expect("the exposition")
}

#[actix_web::test]
async fn every_metric_and_route_the_dashboards_and_rules_query_is_exported() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        panic!("SQLite is always available");
    };
    let exported = exported_series(&exercised_server_metrics(&app).await);
    let declared: BTreeSet<String> = resource_reserver::routes::table()
        .endpoints()
        .map(|endpoint| endpoint.path.clone())
        .collect();
    let queries: Vec<_> = grafana_queries().into_iter().chain(prometheus_rule_queries()).collect();
    let mut missing = Vec::new();
    for (origin, expr) in &queries {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "{origin}: no metric found in {expr:?}");
        for name in names {
            if !exported.contains(&name) && !RECORDED_BY_PROMETHEUS.contains(&name.as_str()) {
                missing.push(format!("{origin}: metric {name} is not exported"));
            }
        }
        for route in route_matchers(expr) {
            if !declared.contains(&route) {
                missing.push(format!("{origin}: route {route} is not declared"));
            }
        }
    }
    assert!(missing.is_empty(), "{}\n\nexported: {exported:?}", missing.join("\n"));
}

/// The variables the server reads, as its command line declares them.
fn settings_variables() -> BTreeSet<String> {
    use clap::Args;
    let command = resource_reserver::config::SettingsArgs::augment_args(clap::Command::new("serve"));
    command
        .get_arguments()
        .filter_map(|argument| argument.get_env())
        .map(|name| name.to_string_lossy().into_owned())
        .collect()
}

fn yaml_keys(value: &Yaml) -> Vec<String> {
    value
        .as_mapping()
        .map(|mapping| mapping.keys().filter_map(Yaml::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

#[test]
fn every_variable_the_deploy_files_set_is_a_setting_of_the_server() {
    let mut set: Vec<(String, String)> = Vec::new();
    // Dockerfile: the ENV instruction, continuation lines joined.
    let dockerfile = read("Dockerfile").replace("\\\n", " ");
    for line in dockerfile.lines().filter(|line| line.starts_with("ENV ")) {
        for pair in line["ENV ".len()..].split_whitespace() {
            let name = pair.split('=').next().unwrap_or_default();
            set.push(("Dockerfile".into(), name.to_owned()));
        }
    }
    let compose = compose_file();
    for service in ["server", "node"] {
        for name in yaml_keys(&compose["services"][service]["environment"]) {
            set.push((format!("docker-compose.yml: {service}"), name));
        }
    }
    for document in yaml_documents("kubernetes/configmap.yaml") {
        yaml_keys(&document["data"])
            .into_iter()
            .for_each(|name| set.push(("configmap.yaml".into(), name)));
    }
    for document in yaml_documents("kubernetes/secret.example.yaml") {
        let keys = yaml_keys(&document["stringData"]);
        keys.into_iter()
            .for_each(|name| set.push(("secret.example.yaml".into(), name)));
    }
    for document in yaml_documents("kubernetes/deployment.yaml") {
        let containers = document["spec"]["template"]["spec"]["containers"]
            .as_sequence()
            .expect("containers");
        for container in containers {
            for variable in container["env"].as_sequence().into_iter().flatten() {
                set.push((
                    "deployment.yaml".into(),
                    variable["name"].as_str().expect("a name").to_owned(),
                ));
            }
        }
    }
    let known = settings_variables();
    assert!(
        known.contains("DATABASE_URL") && known.contains("METRICS_TOKEN"),
        "{known:?}"
    );
    assert!(set.len() > 10, "the deploy files set variables: {set:?}");
    let unknown: Vec<_> = set.iter().filter(|(_, name)| !known.contains(name)).collect();
    assert!(unknown.is_empty(), "variables the server does not read: {unknown:?}");
}

/// `${NAME:-default}` becomes its default, `${NAME:?message}` and `${NAME}` a 32-byte stand-in:
/// the Compose file as `docker compose config` reads it with the required variables set.
fn interpolate(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('}').expect("a closed ${…}");
        let inner = &rest[start + 2..end];
        match inner.split_once(":-") {
            Some((_, default)) => out.push_str(default),
            None => out.push_str(&"x".repeat(32)),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// deploy/docker-compose.yml, interpolated, after the Compose specification's types accepted it
/// (unknown keys, malformed ports, durations, health checks and undefined volumes or secrets are
/// refused).
fn compose_file() -> Yaml {
    let text = interpolate(&read("docker-compose.yml"));
    let compose = compose_spec::Compose::options()
        .from_yaml_str(&text)
        .unwrap_or_else(|error| panic!("docker-compose.yml does not follow the Compose specification: {error}"));
    compose
        .validate_all()
        .unwrap_or_else(|error| panic!("docker-compose.yml: {error}"));
    serde_yaml::from_str(&text).expect("YAML")
}

#[test]
fn the_compose_file_follows_the_specification_and_names_files_that_exist() {
    let compose = compose_file();
    let services = compose["services"].as_mapping().expect("services");
    let names: BTreeSet<&str> = services.keys().filter_map(Yaml::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from(["grafana", "haproxy", "node", "postgres", "prometheus", "server"])
    );
    let deploy = deploy_file("");
    for (name, service) in services {
        let name = name.as_str().expect("a service name");
        for dependency in yaml_keys(&service["depends_on"]) {
            assert!(
                names.contains(dependency.as_str()),
                "{name} depends on unknown {dependency}"
            );
        }
        // Bind mounts: paths relative to deploy/, which must exist.
        for volume in service["volumes"].as_sequence().into_iter().flatten() {
            let source = volume
                .as_str()
                .expect("short volume syntax")
                .split(':')
                .next()
                .unwrap_or_default();
            if source.starts_with('.') {
                assert!(
                    deploy.join(source).exists(),
                    "{name} mounts {source}, which does not exist"
                );
            }
        }
    }
    let server = &compose["services"]["server"];
    let context = deploy.join(server["build"]["context"].as_str().expect("a build context"));
    let dockerfile = server["build"]["dockerfile"].as_str().expect("a Dockerfile");
    assert!(
        context.join(dockerfile).exists(),
        "the server's Dockerfile {dockerfile}"
    );
    assert_eq!(
        server["depends_on"]["postgres"]["condition"], "service_healthy",
        "the server starts once PostgreSQL answers"
    );
    let database_url = server["environment"]["DATABASE_URL"].as_str().expect("DATABASE_URL");
    assert!(
        database_url.starts_with("postgres://") && database_url.contains("@postgres:5432/"),
        "{database_url}"
    );
    // Prometheus scrapes the address the server serves /metrics on.
    let metrics_address = server["environment"]["METRICS_ADDRESS"]
        .as_str()
        .expect("METRICS_ADDRESS");
    let scrape = &yaml_documents("prometheus/prometheus.yml")[0]["scrape_configs"][0];
    let target = scrape["static_configs"][0]["targets"][0]
        .as_str()
        .expect("a scrape target");
    assert_eq!(target, format!("server:{}", port_of(metrics_address)));
}

/// Runs `resource-reserver healthcheck` against `port` and returns its exit code and stderr.
fn healthcheck(port: &str) -> (Option<i32>, String) {
    let output = server_command(&[("PORT", port)], &["healthcheck"])
        .output()
        .expect("running the binary");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn port_of(address: &str) -> String {
    address.rsplit(':').next().expect("host:port").to_owned()
}

#[test]
fn the_healthcheck_command_tells_a_healthy_server_from_an_absent_one() {
    let data_dir = tempfile::tempdir().expect("a data directory");
    let server = ServerProcess::start(&[("DATA_DIR", &data_dir.path().display().to_string())]);
    let port = port_of(&server.address);
    assert_eq!(healthcheck(&port), (Some(0), String::new()));
    drop(server);
    let (code, stderr) = healthcheck(&port);
    assert_eq!(code, Some(1), "nothing listens any more: {stderr}");
    assert!(stderr.contains("unhealthy: cannot connect"), "{stderr}");
}

#[actix_web::test]
async fn the_healthcheck_command_fails_while_the_database_is_unreachable() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let data_dir = database.data_dir.path().display().to_string();
    let url = database.url();
    let server = ServerProcess::start(&[("DATA_DIR", &data_dir), ("DATABASE_URL", &url)]);
    let port = port_of(&server.address);
    assert_eq!(healthcheck(&port).0, Some(0));
    database.set_connections_allowed(false).await;
    let (code, stderr) = healthcheck(&port);
    database.set_connections_allowed(true).await;
    // The server says so, or takes longer than the check waits: unhealthy either way.
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.starts_with("unhealthy: "), "{stderr}");
}
