//! `POST /token`: the "TokenIDP" JSON dialect some existing callers speak. Same
//! grant, same rules and statuses as the OAuth endpoint; only the envelope differs.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::StatusCode,
    response::Response,
};
use serde_json::json;

use super::{request::MediaType, token::issue_token};
use crate::http::no_store_json;
use crate::{authority::Authority, observe::metrics::Protocol};

pub async fn issue(State(authority): State<Arc<Authority>>, request: Request) -> Response {
    match issue_token(&authority, request, &[MediaType::Json], Protocol::TokenIdp).await {
        Ok(issued) => no_store_json(
            StatusCode::OK,
            &json!({
                "isSuccess": true,
                "data": {
                    "accessToken": issued.access_token,
                    "tokenType": "Bearer",
                    "expiresIn": issued.expires_in,
                    "scope": issued.scope,
                }
            }),
        ),
        Err(rejection) => rejection.token_idp(),
    }
}
