//! Remote verification: tokend's `Introspect` judges every token, so a revoked
//! token is refused at once, at the cost of one call per request.

use tokend_common::{structs, wire::INTROSPECT_SCOPE};
use tonic::transport::Channel;
use tower::Layer;

use super::{Claims, Confirmation, VerifyError};
use crate::{
    Bearer, BearerLayer, TokenSource,
    pb::{IntrospectRequest, token_service_client::TokenServiceClient},
};

pub(super) struct Introspector {
    client: TokenServiceClient<Bearer<Channel>>,
    issuer: String,
    audience: String,
}

impl Introspector {
    /// Calls `Introspect` on `channel` with a `tokend.introspect` token from `source`.
    pub fn new(channel: Channel, source: TokenSource, issuer: String, audience: String) -> Self {
        let authorised = BearerLayer::new(source, INTROSPECT_SCOPE, Vec::<String>::new()).layer(channel);
        Self { client: TokenServiceClient::new(authorised), issuer, audience }
    }

    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        let request = IntrospectRequest {
            token: token.to_owned(),
            token_type_hint: "access_token".into(),
            ..IntrospectRequest::default()
        };
        let answer = self
            .client
            .clone()
            .introspect(request)
            .await
            .map_err(|status| {
                VerifyError::Unavailable(format!("introspection failed: {}", status.message()))
            })?
            .into_inner();
        if !answer.active {
            return Err(VerifyError::invalid("token is not active"));
        }
        if answer.iss != self.issuer {
            return Err(VerifyError::invalid("token is from another issuer"));
        }
        if !answer.aud.contains(&self.audience) {
            return Err(VerifyError::invalid("token is for another audience"));
        }
        Ok(Claims {
            iss: answer.iss,
            sub: answer.sub,
            client_id: answer.client_id,
            aud: answer.aud,
            scope: answer.scope,
            exp: answer.exp,
            nbf: answer.nbf,
            iat: answer.iat,
            jti: answer.jti,
            cnf: answer.cnf.map(|cnf| Confirmation {
                x5t_s256: Some(cnf.x5t_s256).filter(|x5t| !x5t.is_empty()),
                jkt: Some(cnf.jkt).filter(|jkt| !jkt.is_empty()),
            }),
            // Introspection has judged the status already.
            status: None,
            other: answer.claims.map(structs::from_struct).unwrap_or_default(),
        })
    }
}
