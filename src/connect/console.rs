//! The admin console at `/console/`: plain HTML, CSS and JavaScript modules
//! from `console/`, compiled into the binary so it needs no network, served
//! with a strict Content-Security-Policy. The page calls the contract over
//! Connect; nothing here knows what it shows.

use axum::{
    Router,
    body::Body,
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{Redirect, Response},
    routing::get,
};

use crate::http::Rejection;
use crate::{domain::quoted, failure::Refusal};

pub const PATH: &str = "/console/";

/// Scripts, styles and calls from this origin only; no inline script or
/// style, no framing, no form posts, no plugins.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Every file of the console, with its media type.
const ASSETS: [(&str, &str, &str); 17] = [
    ("index.html", "text/html; charset=utf-8", include_str!("../../console/index.html")),
    ("console.css", "text/css; charset=utf-8", include_str!("../../console/console.css")),
    ("app.js", JS, include_str!("../../console/app.js")),
    ("api.js", JS, include_str!("../../console/api.js")),
    ("dom.js", JS, include_str!("../../console/dom.js")),
    ("errors.js", JS, include_str!("../../console/errors.js")),
    ("progress.js", JS, include_str!("../../console/progress.js")),
    ("signin.js", JS, include_str!("../../console/signin.js")),
    ("clients.js", JS, include_str!("../../console/clients.js")),
    ("client.js", JS, include_str!("../../console/client.js")),
    ("new-client.js", JS, include_str!("../../console/new-client.js")),
    ("auth-choice.js", JS, include_str!("../../console/auth-choice.js")),
    ("limits.js", JS, include_str!("../../console/limits.js")),
    ("secret-dialog.js", JS, include_str!("../../console/secret-dialog.js")),
    ("keys.js", JS, include_str!("../../console/keys.js")),
    ("events.js", JS, include_str!("../../console/events.js")),
    // Named by the page, so browsers ask for it here and not for /favicon.ico.
    ("favicon.svg", "image/svg+xml", include_str!("../../console/favicon.svg")),
];
const JS: &str = "text/javascript; charset=utf-8";

/// `/console` (to `/console/`), the page and its files.
pub fn routes<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .route("/console", get(|| async { Redirect::permanent(PATH) }))
        .route(PATH, get(|| async { asset("index.html") }))
        .route("/console/{file}", get(|Path(file): Path<String>| async move { asset(&file) }))
}

fn asset(file: &str) -> Response {
    let Some((_, media_type, content)) = ASSETS.iter().find(|(name, _, _)| *name == file) else {
        let message = format!("the console has no file {}", quoted(file));
        return Rejection::from(Refusal::NoEndpoint(message)).oauth();
    };
    let mut response = Response::new(Body::from(*content));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // Revalidated on every load, so a new binary's console is never mixed with an old one's.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file added to `console/` and not listed here would be missing from the binary.
    #[test]
    fn every_file_of_the_console_is_served() {
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/console");
        let mut on_disk: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| !name.starts_with('.'))
            .collect();
        let mut served: Vec<String> = ASSETS.iter().map(|(name, _, _)| name.to_string()).collect();
        on_disk.sort();
        served.sort();
        assert_eq!(on_disk, served);
    }

    /// The audit page offers every type of event as a filter, and only those.
    #[test]
    fn the_audit_page_knows_every_event_type() {
        let (_, _, events_js) = ASSETS.iter().find(|(name, _, _)| *name == "events.js").unwrap();
        let listed = events_js.split_once("const TYPES = [").unwrap().1.split_once("];").unwrap().0;
        let listed: Vec<&str> =
            listed.split(',').map(|t| t.trim().trim_matches('"')).filter(|t| !t.is_empty()).collect();
        let known: Vec<&str> = crate::authority::EventType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(listed, known);
    }
}
