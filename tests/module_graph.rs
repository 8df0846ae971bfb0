//! Dependencies point one way: no cycle between the modules of the server crate (`src/`) or of
//! the actors crate (`actors/src/`).
//!
//! The check reads the source, not the compiler: every `crate::…`, `super::…` and `self::…` path
//! (and, in `use` items, paths through a child module) is resolved to the module file that
//! defines it, following `pub use` re-exports, so `crate::auth::Principal` counts as a use of
//! `auth::principal`. Comments and `#[cfg(test)] mod` blocks are not read: tests may reach
//! anywhere.
//!
//! A dependency `a::b::x → a::c::y` is a dependency between the siblings `b → c` under `a`; a
//! module using its own parent or child is not one. Every directory (and the crate root) must
//! have an acyclic graph of its children. On top of that, nothing below the server's entry
//! points may use them: `state` (the handlers' whole [`AppState`]), `routes` and `startup` are
//! reached only from `startup` and `routes`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

type ModPath = Vec<String>;

/// One crate's modules, what each `pub use` re-exports, and the paths each module names.
struct Crate {
    modules: BTreeSet<ModPath>,
    /// (module, exported name) → the path it re-exports.
    reexports: BTreeMap<(ModPath, String), ModPath>,
    /// module → (path named, as written) for every reference in its file.
    references: BTreeMap<ModPath, Vec<(ModPath, String)>>,
    files: BTreeMap<ModPath, PathBuf>,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `auth/oauth.rs` → `[auth, oauth]`, `auth/mod.rs` → `[auth]`, `lib.rs` → `[]`.
fn module_of(root: &Path, file: &Path) -> ModPath {
    let relative = file.strip_prefix(root).expect("file under root");
    let mut parts: ModPath = relative
        .iter()
        .map(|part| part.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// The source without comments and without the trailing `#[cfg(test)] mod …` blocks.
fn code_of(source: &str) -> String {
    let source = match source.find("#[cfg(test)]\nmod ") {
        Some(at) => &source[..at],
        None => source,
    };
    let mut code = String::with_capacity(source.len());
    let mut rest = source;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |end| &after[end + 2..]);
        } else if rest.starts_with("//") {
            rest = rest.find('\n').map_or("", |end| &rest[end..]);
        } else if rest.starts_with('"') {
            // Skip string literals whole, so that "http://…" is not a comment.
            let bytes = rest.as_bytes();
            let mut end = 1;
            while end < bytes.len() && bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            code.push_str("\"\"");
            rest = rest.get(end + 1..).unwrap_or("");
        } else {
            let ch = rest.chars().next().expect("non-empty");
            code.push(ch);
            rest = &rest[ch.len_utf8()..];
        }
    }
    code
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Parses a use tree or a path at the start of `text`: `a::b::{c, d::e as f, self}` gives
/// `[a,b,c]`, `[a,b,d,e]` (named `f`), `[a,b]` (named `b`). Each path comes with the name it
/// binds.
fn parse_tree(text: &str) -> Vec<(ModPath, String)> {
    fn tree(chars: &[char], at: &mut usize, prefix: &ModPath, out: &mut Vec<(ModPath, String)>) {
        let mut path = prefix.clone();
        loop {
            skip_space(chars, at);
            if *at < chars.len() && chars[*at] == '{' {
                *at += 1;
                loop {
                    skip_space(chars, at);
                    if *at >= chars.len() || chars[*at] == '}' {
                        *at += 1;
                        return;
                    }
                    tree(chars, at, &path, out);
                    skip_space(chars, at);
                    if *at < chars.len() && chars[*at] == ',' {
                        *at += 1;
                    }
                }
            }
            if *at < chars.len() && chars[*at] == '*' {
                *at += 1;
                out.push((path, "*".to_string()));
                return;
            }
            let start = *at;
            while *at < chars.len() && is_ident(chars[*at]) {
                *at += 1;
            }
            if start == *at {
                if let Some(last) = path.last().cloned() {
                    out.push((path, last));
                }
                return;
            }
            let segment: String = chars[start..*at].iter().collect();
            if segment != "self" {
                path.push(segment);
            }
            if chars.get(*at) == Some(&':') && chars.get(*at + 1) == Some(&':') {
                *at += 2;
                continue;
            }
            let mut name = path.last().cloned().unwrap_or_default();
            let mut look = *at;
            skip_space(chars, &mut look);
            if chars[look..].starts_with(&['a', 's', ' ']) {
                look += 3;
                skip_space(chars, &mut look);
                let alias_start = look;
                while look < chars.len() && is_ident(chars[look]) {
                    look += 1;
                }
                name = chars[alias_start..look].iter().collect();
                *at = look;
            }
            out.push((path, name));
            return;
        }
    }
    fn skip_space(chars: &[char], at: &mut usize) {
        while *at < chars.len() && chars[*at].is_whitespace() {
            *at += 1;
        }
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    tree(&chars, &mut 0, &Vec::new(), &mut out);
    out
}

/// Makes a path written in `module` absolute: `crate::`, `super::`, `self::`, or (in `use`
/// items) a child module's name. `None` for an external crate's path.
fn absolute(modules: &BTreeSet<ModPath>, module: &ModPath, path: &ModPath) -> Option<ModPath> {
    let mut segments = path.iter();
    let mut base = match path.first().map(String::as_str) {
        Some("crate") => {
            segments.next();
            Vec::new()
        }
        Some("super") | Some("self") => module.clone(),
        Some(first) => {
            let mut child = module.clone();
            child.push(first.to_string());
            if !modules.contains(&child) {
                return None;
            }
            module.clone()
        }
        None => return None,
    };
    let mut rest = Vec::new();
    for segment in segments {
        match segment.as_str() {
            "super" if rest.is_empty() => {
                base.pop();
            }
            "self" if rest.is_empty() => {}
            _ => rest.push(segment.clone()),
        }
    }
    base.extend(rest);
    Some(base)
}

fn read_crate(root: &Path, skip: &[&str]) -> Crate {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    files.retain(|file| !skip.iter().any(|s| file.ends_with(s)));
    let mut krate = Crate {
        modules: BTreeSet::new(),
        reexports: BTreeMap::new(),
        references: BTreeMap::new(),
        files: BTreeMap::new(),
    };
    let mut sources = Vec::new();
    for file in files {
        let module = module_of(root, &file);
        krate.modules.insert(module.clone());
        krate.files.insert(module.clone(), file.clone());
        sources.push((module, code_of(&fs::read_to_string(&file).expect("read source file"))));
    }
    for (module, code) in &sources {
        let mut references = Vec::new();
        let mut at = 0;
        while let Some(found) = code[at..].find("use ") {
            let start = at + found;
            at = start + 4;
            let before = code[..start].chars().next_back();
            if before.is_some_and(is_ident) {
                continue;
            }
            let visibility = code[..start].trim_end();
            let public = visibility.ends_with("pub") || visibility.ends_with(')') && visibility.contains("pub(");
            let end = code[at..].find(';').map_or(code.len(), |e| at + e);
            for (path, name) in parse_tree(&code[at..end]) {
                let Some(target) = absolute(&krate.modules, module, &path) else {
                    continue;
                };
                if public && name != "*" {
                    krate.reexports.insert((module.clone(), name), target.clone());
                }
                references.push((target, code[at..end].split_whitespace().collect::<Vec<_>>().join(" ")));
            }
        }
        for keyword in ["crate::", "super::", "self::"] {
            let mut at = 0;
            while let Some(found) = code[at..].find(keyword) {
                let start = at + found;
                at = start + keyword.len();
                if code[..start]
                    .chars()
                    .next_back()
                    .is_some_and(|c| is_ident(c) || c == ':')
                {
                    continue;
                }
                for (path, _) in parse_tree(&code[start..]) {
                    if let Some(target) = absolute(&krate.modules, module, &path) {
                        let written: String = code[start..]
                            .chars()
                            .take_while(|c| is_ident(*c) || *c == ':')
                            .collect();
                        references.push((target, written));
                    }
                }
            }
        }
        krate.references.insert(module.clone(), references);
    }
    krate
}

impl Crate {
    /// The module that defines what `path` names, following re-exports.
    fn resolve(&self, path: &ModPath, depth: usize) -> ModPath {
        let mut module = Vec::new();
        for (i, segment) in path.iter().enumerate() {
            let mut child = module.clone();
            child.push(segment.clone());
            if self.modules.contains(&child) {
                module = child;
                continue;
            }
            if depth < 8
                && let Some(target) = self.reexports.get(&(module.clone(), segment.clone()))
            {
                let mut target = target.clone();
                target.extend(path[i + 1..].iter().cloned());
                return self.resolve(&target, depth + 1);
            }
            break;
        }
        module
    }

    /// Every dependency `from → to` between distinct modules, with one way it is written.
    fn edges(&self) -> BTreeMap<(ModPath, ModPath), String> {
        let mut edges = BTreeMap::new();
        for (module, references) in &self.references {
            for (path, written) in references {
                let target = self.resolve(path, 0);
                if &target != module {
                    edges.entry((module.clone(), target)).or_insert_with(|| written.clone());
                }
            }
        }
        edges
    }
}

fn show(module: &ModPath) -> String {
    if module.is_empty() {
        "crate".to_string()
    } else {
        module.join("::")
    }
}

/// Every cycle among siblings, one line per strongly connected group, with the references that
/// close it.
fn cycles(krate: &Crate) -> Vec<String> {
    // parent → (child → children it depends on), and the evidence for each sibling edge.
    let mut graphs: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    let mut evidence: BTreeMap<(ModPath, String, String), String> = BTreeMap::new();
    for ((from, to), written) in krate.edges() {
        let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
        if common == from.len() || common == to.len() {
            continue; // a module and its own ancestor
        }
        let parent: ModPath = from[..common].to_vec();
        let (a, b) = (from[common].clone(), to[common].clone());
        graphs
            .entry(parent.clone())
            .or_default()
            .entry(a.clone())
            .or_default()
            .insert(b.clone());
        evidence
            .entry((parent, a, b))
            .or_insert_with(|| format!("{} uses {} (`{written}`)", show(&from), show(&to)));
    }
    let mut found = Vec::new();
    for (parent, graph) in &graphs {
        for group in strongly_connected(graph) {
            let mut lines = vec![format!(
                "cycle under {}: {}",
                show(parent),
                group.iter().cloned().collect::<Vec<_>>().join(" ↔ ")
            )];
            for a in &group {
                for b in graph.get(a).into_iter().flatten().filter(|b| group.contains(*b)) {
                    lines.push(format!("    {}", evidence[&(parent.clone(), a.clone(), b.clone())]));
                }
            }
            found.push(lines.join("\n"));
        }
    }
    found
}

/// The groups of more than one node that reach each other (Tarjan's algorithm, small graphs).
fn strongly_connected(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    let reach = |start: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start.clone()];
        while let Some(node) = stack.pop() {
            for next in graph.get(&node).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> = graph.keys().map(|node| (node, reach(node))).collect();
    let mut groups: Vec<BTreeSet<String>> = Vec::new();
    for (node, reached) in &reaches {
        if !reached.contains(*node) || groups.iter().any(|g| g.contains(*node)) {
            continue;
        }
        let group: BTreeSet<String> = reached
            .iter()
            .filter(|other| reaches.get(other).is_some_and(|back| back.contains(*node)))
            .cloned()
            .collect();
        groups.push(group);
    }
    groups
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_server_crate_has_no_module_cycle() {
    // `main.rs` is a crate of its own (the binary), using this one through its name.
    let krate = read_crate(&manifest_dir().join("src"), &["src/main.rs"]);
    let found = cycles(&krate);
    assert!(
        found.is_empty(),
        "module cycles in the server crate:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_entry_points_use_state_routes_and_startup() {
    let krate = read_crate(&manifest_dir().join("src"), &["src/main.rs"]);
    let entry = ["state", "routes", "startup"];
    let offending: Vec<String> = krate
        .edges()
        .into_iter()
        .filter(|((from, to), _)| {
            let top = |m: &ModPath| m.first().cloned().unwrap_or_default();
            entry.contains(&top(to).as_str())
                && top(from) != top(to)
                && !["routes", "startup", ""].contains(&top(from).as_str())
        })
        .map(|((from, to), written)| format!("{} uses {} (`{written}`)", show(&from), show(&to)))
        .collect();
    assert!(
        offending.is_empty(),
        "below the entry points, take the parts (`&Db`, `&Clock`, …), not `state`, `routes` or `startup`:\n{}",
        offending.join("\n")
    );
}

#[test]
fn the_actors_crate_has_no_module_cycle() {
    let krate = read_crate(&manifest_dir().join("actors/src"), &[]);
    let found = cycles(&krate);
    assert!(
        found.is_empty(),
        "module cycles in the actors crate:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_cycle_through_a_reexport() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let src = dir.path();
    fs::create_dir(src.join("auth")).expect("create auth");
    fs::write(src.join("lib.rs"), "pub mod auth;\npub mod state;\n").expect("write");
    fs::write(src.join("state.rs"), "use crate::auth::Auth;\n").expect("write");
    fs::write(
        src.join("auth/mod.rs"),
        "mod keys;\nmod principal;\npub use keys::Auth;\npub use principal::Principal;\n",
    )
    .expect("write");
    fs::write(
        src.join("auth/keys.rs"),
        "// crate::auth::Principal in a comment\npub struct Auth;\n",
    )
    .expect("write");
    fs::write(
        src.join("auth/principal.rs"),
        "use super::keys::Auth;\nfn f(_: &crate::state::AppState) {}\n",
    )
    .expect("write");
    let krate = read_crate(src, &[]);
    let found = cycles(&krate);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("cycle under crate: auth ↔ state"), "{found:?}");
    assert!(
        found[0].contains("auth::principal uses state (`crate::state::AppState`)"),
        "{found:?}"
    );
}
