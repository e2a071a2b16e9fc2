//! Routes that answer the methods they do not serve with a JSON 405 naming
//! the ones they do, as every tokend endpoint does.

use axum::routing::MethodRouter;

use super::method_not_allowed;

/// `route`, answering other methods 405 naming POST.
pub fn only_post<S: Clone + Send + Sync + 'static>(route: MethodRouter<S>) -> MethodRouter<S> {
    route.fallback(|| async { method_not_allowed("POST") })
}

/// `route`, answering other methods 405 naming GET (and HEAD).
pub fn only_get<S: Clone + Send + Sync + 'static>(route: MethodRouter<S>) -> MethodRouter<S> {
    route.fallback(|| async { method_not_allowed("GET, HEAD") })
}
