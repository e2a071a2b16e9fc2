//! `tokend.v1.TokenService`: IssueToken, Introspect and Revoke.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{
    metadata::presented,
    pb::{self, token_service_server::TokenService},
};
use tokend_common::structs;

use crate::{
    access_log,
    authority::{Authority, BodyCredentials, Introspection, TokenRequest},
    failure::Failure,
    metrics::{Metrics, Protocol},
};

pub struct TokenServiceApi {
    authority: Arc<Authority>,
    metrics: Arc<Metrics>,
}

impl TokenServiceApi {
    pub fn new(authority: Arc<Authority>, metrics: Arc<Metrics>) -> Self {
        Self { authority, metrics }
    }
}

#[tonic::async_trait]
impl TokenService for TokenServiceApi {
    async fn issue_token(
        &self,
        request: Request<pb::IssueTokenRequest>,
    ) -> Result<Response<pb::IssueTokenResponse>, Status> {
        let (metadata, extensions, body) = request.into_parts();
        let issued = self
            .authority
            .issue(TokenRequest {
                grant_type: body.grant_type,
                presented: presented(
                    &metadata,
                    &extensions,
                    BodyCredentials {
                        client_id: body.client_id,
                        client_secret: body.client_secret,
                        client_assertion_type: body.client_assertion_type,
                        client_assertion: body.client_assertion,
                    },
                ),
                scope: body.scope,
                audiences: body.audience,
            })
            .await;
        let issued = match issued {
            Ok(issued) => issued,
            Err(err) => {
                let failure = Failure::from(err);
                self.metrics.failed(failure.reason, Protocol::Grpc);
                return Err(failure.into());
            }
        };
        self.metrics.issued(&issued.claims.client_id, Protocol::Grpc);
        access_log::authenticated(extensions.get(), &issued.claims.client_id);
        Ok(Response::new(pb::IssueTokenResponse {
            expires_in: issued.expires_in(),
            access_token: issued.access_token,
            token_type: "Bearer".into(),
            scope: issued.claims.scope,
        }))
    }

    async fn introspect(
        &self,
        request: Request<pb::IntrospectRequest>,
    ) -> Result<Response<pb::IntrospectResponse>, Status> {
        let (metadata, extensions, body) = request.into_parts();
        let answer = self
            .authority
            .introspect(presented(&metadata, &extensions, BodyCredentials::default()), &body.token)
            .await?;
        self.metrics.introspected(matches!(answer, Introspection::Active(_)));
        Ok(Response::new(match answer {
            Introspection::Inactive => pb::IntrospectResponse::default(),
            Introspection::Active(claims) => pb::IntrospectResponse {
                active: true,
                scope: claims.scope,
                client_id: claims.client_id,
                sub: claims.sub,
                aud: claims.aud,
                iss: claims.iss,
                exp: claims.exp,
                iat: claims.iat,
                nbf: claims.nbf,
                jti: claims.jti,
                token_type: "Bearer".into(),
                cnf: claims.cnf.map(|cnf| pb::Confirmation { x5t_s256: cnf.x5t_s256 }),
                federated: claims.federated.map(|from| pb::FederatedSubject { iss: from.iss, sub: from.sub }),
                claims: (!claims.claims.is_empty()).then(|| structs::to_struct(claims.claims.to_members())),
            },
        }))
    }

    async fn revoke(
        &self,
        request: Request<pb::RevokeRequest>,
    ) -> Result<Response<pb::RevokeResponse>, Status> {
        let (metadata, extensions, body) = request.into_parts();
        self.authority
            .revoke(presented(&metadata, &extensions, BodyCredentials::default()), &body.token)
            .await?;
        Ok(Response::new(pb::RevokeResponse {}))
    }
}
