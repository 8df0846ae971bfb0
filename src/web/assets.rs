//! The dashboard's files: embedded in the binary from `web/` (rust-embed, also in debug builds),
//! or, for front-end development only, read from `WEB_ASSETS_DIR` on every request so that an
//! edited file is served without a rebuild.
//!
//! Guarantees: a request path is served only if every segment is a plain name of
//! `[A-Za-z0-9_-]` and dots, not starting with a dot — so `..`, `.`, dotfiles, percent-encoded or
//! backslashed names never reach the embedded table or the file system, and no file outside the
//! asset root is ever read (in directory mode the resolved path is also checked to be inside the
//! root, which a symbolic link could otherwise leave). Every asset has a content type from its
//! extension (scripts are `text/javascript`, as ES modules require under `nosniff`) and an ETag
//! derived from its content.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::ApiError;

#[derive(rust_embed::RustEmbed)]
#[folder = "web/"]
struct Embedded;

/// The longest asset path accepted (no file of `web/` comes near it).
const MAX_PATH_LEN: usize = 256;

/// The shell page, in which the server writes the negotiated language.
pub const INDEX: &str = "index.html";

/// Where the assets come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetSource {
    /// The files embedded in the binary at build time.
    Embedded,
    /// A directory read at each request (`WEB_ASSETS_DIR`, development only).
    Directory(PathBuf),
}

/// One file, ready to serve.
#[derive(Debug, Clone)]
pub struct Asset {
    pub body: Cow<'static, [u8]>,
    pub content_type: &'static str,
    /// A strong ETag, quotes included.
    pub etag: String,
}

/// Why an asset could not be read (the directory of `WEB_ASSETS_DIR` failing); a missing file is
/// not an error but `Ok(None)`.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error("cannot read the asset {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<AssetError> for ApiError {
    fn from(error: AssetError) -> ApiError {
        ApiError::internal_context("reading a web asset", error)
    }
}

/// `Some(path)` when `path` names a file under the root by plain segments only.
pub fn safe_path(path: &str) -> Option<&str> {
    let plain = |segment: &str| {
        !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    (path.len() <= MAX_PATH_LEN && path.split('/').all(plain)).then_some(path)
}

/// The content type of a file name, from its extension.
pub fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase());
    match extension.as_deref() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        Some("webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

fn etag_of(sha256: &[u8]) -> String {
    format!("\"{}\"", crate::secret::hex(&sha256[..16]))
}

impl AssetSource {
    /// The file at `path` (relative to the asset root), `Ok(None)` when there is none or the
    /// path is not a plain one.
    pub async fn find(&self, path: &str) -> Result<Option<Asset>, AssetError> {
        let Some(path) = safe_path(path) else {
            return Ok(None);
        };
        match self {
            AssetSource::Embedded => Ok(Embedded::get(path).map(|file| Asset {
                etag: etag_of(&file.metadata.sha256_hash()),
                body: file.data,
                content_type: content_type(path),
            })),
            AssetSource::Directory(root) => read_from(root, path).await,
        }
    }
}

async fn read_from(root: &Path, path: &str) -> Result<Option<Asset>, AssetError> {
    let error = |source| AssetError::Read {
        path: root.join(path),
        source,
    };
    let (Ok(root), Ok(file)) = (
        tokio::fs::canonicalize(root).await,
        tokio::fs::canonicalize(root.join(path)).await,
    ) else {
        return Ok(None);
    };
    if !file.starts_with(&root) || !tokio::fs::metadata(&file).await.map_err(error)?.is_file() {
        return Ok(None);
    }
    let body = tokio::fs::read(&file).await.map_err(error)?;
    Ok(Some(Asset {
        etag: etag_of(&Sha256::digest(&body)),
        body: Cow::Owned(body),
        content_type: content_type(path),
    }))
}

/// Whether an `If-None-Match` header value matches `etag` (weak comparison, as RFC 9110 §13.1.2
/// asks for this header).
pub fn matches_etag(if_none_match: &str, etag: &str) -> bool {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    if_none_match.trim() == "*" || if_none_match.split(',').any(|tag| bare(tag) == bare(etag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths_are_served() {
        for good in ["js/app.js", "favicon.svg", "css/app.css", "js/i18n/core.js"] {
            assert_eq!(safe_path(good), Some(good));
        }
        for bad in [
            "",
            "../Cargo.toml",
            "js/../../Cargo.toml",
            "%2e%2e/Cargo.toml",
            "./index.html",
            ".git/config",
            "js//app.js",
            "js\\..\\x",
            "/etc/passwd",
            "js/app.js/",
            "a\0b",
        ] {
            assert_eq!(safe_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn types_and_etags() {
        assert_eq!(content_type("js/app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("x.SVG"), "image/svg+xml");
        assert!(matches_etag("\"a\", W/\"b\"", "\"b\""));
        assert!(matches_etag("*", "\"b\""));
        assert!(!matches_etag("\"a\"", "\"b\""));
    }

    #[actix_web::test]
    async fn the_shell_is_embedded() {
        let index = AssetSource::Embedded.find(INDEX).await.unwrap().unwrap();
        assert!(String::from_utf8_lossy(&index.body).contains("{{lang}}"));
        assert!(AssetSource::Embedded.find("nope.js").await.unwrap().is_none());
    }
}
