//! Serves the built web app from Trunk's `dist/`.
//!
//! Hashed assets (`name-<hash>.js`, `…_bg.wasm`, `…css`) never change under one name, so browsers
//! may keep them a year; `index.html` names the current hashes, so it must be revalidated on every
//! load, or a holder could run yesterday's app against today's API. Paths without a file
//! extension are client-side routes of the app and get `index.html`.

use std::{path::PathBuf, sync::Arc};

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::Engine as _;
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
    index: axum::body::Bytes,
    script_hashes: Vec<String>,
}

impl Assets {
    pub fn load(dir: impl Into<PathBuf>) -> Result<Self, AssetError> {
        let dir = dir.into();
        let path = dir.join("index.html");
        let index = std::fs::read(&path)
            .map_err(|source| AssetError::Index { path: path.clone(), source })?;
        let script_hashes = inline_scripts(&String::from_utf8_lossy(&index))
            .map(|body| {
                let digest = Sha256::digest(body.as_bytes());
                format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(digest))
            })
            .collect();
        Ok(Self { dir, index: index.into(), script_hashes })
    }

    /// CSP sources (`sha256-…`) for the inline scripts in `index.html` (Trunk's module loader).
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
    let file_name = req.uri().path().rsplit('/').next().unwrap_or_default().to_owned();
    if !file_name.contains('.') || file_name == "index.html" {
        return (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            Body::from(assets.index.clone()),
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
