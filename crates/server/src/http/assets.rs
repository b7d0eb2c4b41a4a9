//! Serves the built web app: one Trunk build per page bundle in `dist/<bundle>/` (scripts/web.sh).
//!
//! Hashed assets (`name-<hash>.js`, `…_bg.wasm`, `…css`) never change under one name, so browsers
//! may keep them a year; a bundle's `index.html` names the current hashes, so it must be
//! revalidated on every load, or a holder could run yesterday's app against today's API. Paths
//! without a file extension are pages: each gets its bundle's html by the one table of pages
//! (`mahpki_protocol::pages`), and a path that is no page gets the 404 page's.

use std::{collections::HashMap, path::PathBuf, sync::Arc};

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use mahpki_protocol::pages::{Bundle, NOT_FOUND_BUNDLE, Page};
use sha2::{Digest, Sha256};
use tower::ServiceExt as _;
use tower_http::{compression::CompressionLayer, services::ServeDir};

#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error("cannot read {path}: {source} (build the app first: `make build`)")]
    Index { path: PathBuf, source: std::io::Error },
}

#[derive(Debug, Clone)]
pub struct Assets {
    dir: PathBuf,
    /// Each bundle's `index.html`.
    html: HashMap<Bundle, axum::body::Bytes>,
    script_hashes: Vec<String>,
}

impl Assets {
    /// Reads every bundle's html; all must be built, or a page would be missing its app.
    pub fn load(dir: impl Into<PathBuf>) -> Result<Self, AssetError> {
        let dir = dir.into();
        let mut html = HashMap::new();
        let mut script_hashes = Vec::new();
        for &bundle in Bundle::ALL {
            let path = dir.join(bundle.name()).join("index.html");
            let bytes = std::fs::read(&path)
                .map_err(|source| AssetError::Index { path: path.clone(), source })?;
            for body in inline_scripts(&String::from_utf8_lossy(&bytes)) {
                let digest = Sha256::digest(body.as_bytes());
                let source =
                    format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(digest));
                // The language script is the same in every page: one source for it.
                if !script_hashes.contains(&source) {
                    script_hashes.push(source);
                }
            }
            html.insert(bundle, bytes.into());
        }
        Ok(Self { dir, html, script_hashes })
    }

    /// CSP sources (`sha256-…`) for the inline scripts of every bundle's html (Trunk's module
    /// loader, the first frame's language script).
    pub fn inline_script_hashes(&self) -> Vec<String> {
        self.script_hashes.clone()
    }

    pub fn into_service(self) -> Router {
        Router::new().fallback(serve).with_state(Arc::new(self)).layer(CompressionLayer::new())
    }
}

async fn serve(State(assets): State<Arc<Assets>>, req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = req.uri().path();
    let file_name = path.rsplit('/').next().unwrap_or_default().to_owned();
    if !file_name.contains('.') || path == "/index.html" {
        let page = if path == "/index.html" { Some(Page::Index) } else { Page::at(path) };
        let (status, bundle) = match page {
            Some(page) => (StatusCode::OK, page.bundle()),
            None => (StatusCode::NOT_FOUND, NOT_FOUND_BUNDLE),
        };
        return (
            status,
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            Body::from(assets.html[&bundle].clone()),
        )
            .into_response();
    }
    let mut res = match ServeDir::new(&assets.dir).oneshot(req).await {
        Ok(res) => res.map(Body::new),
        Err(never) => match never {},
    };
    let cache =
        if is_hashed(&file_name) { "public, max-age=31536000, immutable" } else { "no-cache" };
    if res.status().is_success() {
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    res
}

/// Trunk appends `-<hex hash>` to the file stem: `mahpki-9f86d081884c7d65_bg.wasm`.
fn is_hashed(file_name: &str) -> bool {
    let stem = file_name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (12..=64).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// The bodies of `<script>` elements that have no `src`, exactly as the browser hashes them.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let mut rest = html;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find("<script")?;
            let open_end = start + rest[start..].find('>')?;
            let tag = &rest[start..open_end];
            let body_start = open_end + 1;
            let body_end = body_start + rest[body_start..].find("</script>")?;
            let body = &rest[body_start..body_end];
            rest = &rest[body_end + "</script>".len()..];
            if !tag.contains(" src=") {
                return Some(body);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_trunk_hashed_names() {
        assert!(is_hashed("mahpki-9f86d081884c7d65_bg.wasm"));
        assert!(is_hashed("mahpki-9f86d081884c7d65.js"));
        assert!(is_hashed("app-9f86d081884c7d65.css"));
        assert!(!is_hashed("favicon.svg"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("my-app.js"));
    }

    #[test]
    fn finds_only_inline_scripts() {
        let html = "<script src=\"/a.js\"></script><script type=\"module\">init()</script>\n<script>x</script>";
        assert_eq!(inline_scripts(html).collect::<Vec<_>>(), ["init()", "x"]);
    }
}
