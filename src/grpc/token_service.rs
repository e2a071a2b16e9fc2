//! `tokend.v1.TokenService`: IssueToken, Introspect and Revoke.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{
    metadata::{authorization, non_empty},
    pb::{self, token_service_server::TokenService},
};
use crate::authority::{Authority, Credentials, Introspection, TokenRequest};

pub struct TokenServiceImpl {
    authority: Arc<Authority>,
}

impl TokenServiceImpl {
    pub fn new(authority: Arc<Authority>) -> Self {
        Self { authority }
    }
}

#[tonic::async_trait]
impl TokenService for TokenServiceImpl {
    async fn issue_token(
        &self,
        request: Request<pb::IssueTokenRequest>,
    ) -> Result<Response<pb::IssueTokenResponse>, Status> {
        let header = authorization(request.metadata())?;
        let body = request.into_inner();
        let credentials =
            Credentials::reconcile(header, non_empty(body.client_id), non_empty(body.client_secret))?;
        let issued = self
            .authority
            .issue(TokenRequest {
                grant_type: body.grant_type,
                credentials,
                scope: body.scope,
                audiences: body.audience,
            })
            .await?;
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
        let credentials = Credentials::reconcile(authorization(request.metadata())?, None, None)?;
        let answer = self.authority.introspect(credentials, &request.into_inner().token).await?;
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
            },
        }))
    }

    async fn revoke(
        &self,
        request: Request<pb::RevokeRequest>,
    ) -> Result<Response<pb::RevokeResponse>, Status> {
        let credentials = Credentials::reconcile(authorization(request.metadata())?, None, None)?;
        self.authority.revoke(credentials, &request.into_inner().token).await?;
        Ok(Response::new(pb::RevokeResponse {}))
    }
}
