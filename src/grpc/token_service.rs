//! `tokend.v1.TokenService`: IssueToken, ExchangeToken, Introspect, Revoke
//! and GetStatusList.

use std::sync::Arc;

use tonic::{Extensions, Request, Response, Status};

use super::{
    EncodedStruct,
    metadata::{dpop, presented},
};
use crate::contract::pb::{self, token_service_server::TokenService};

use crate::{
    authority::{
        ACCESS_TOKEN_TYPE, Act, Authority, BodyCredentials, Exchange, Introspection, IssuedToken,
        TOKEN_EXCHANGE, TokenRequest,
    },
    failure::Failure,
    observe::access_log,
    observe::metrics::{Metrics, Protocol},
};

/// The credentials a token request message carries: IssueTokenRequest and
/// ExchangeTokenRequest name them alike.
macro_rules! body_credentials {
    ($body:expr) => {
        BodyCredentials {
            client_id: $body.client_id,
            client_secret: $body.client_secret,
            client_assertion_type: $body.client_assertion_type,
            client_assertion: $body.client_assertion,
        }
    };
}

pub struct TokenServiceApi {
    authority: Arc<Authority>,
    metrics: Arc<Metrics>,
}

impl TokenServiceApi {
    pub fn new(authority: Arc<Authority>, metrics: Arc<Metrics>) -> Self {
        Self { authority, metrics }
    }
}

impl TokenServiceApi {
    /// Asks the authority for a token, counting the outcome in the metrics
    /// and naming the client for the request's log line.
    async fn issued(
        &self,
        request: TokenRequest<'_>,
        extensions: &Extensions,
    ) -> Result<IssuedToken, Status> {
        // A Connect call reaches these services in process, marked as such.
        let protocol = extensions.get::<Protocol>().copied().unwrap_or(Protocol::Grpc);
        match self.authority.issue(request).await {
            Ok(issued) => {
                self.metrics.token_request(Ok((&issued.client_id, issued.kind())), protocol);
                access_log::authenticated(extensions.get(), &issued.client_id);
                Ok(issued)
            }
            Err(err) => {
                let failure = Failure::from(err);
                self.metrics.token_request(Err(failure.reason), protocol);
                Err(failure.into())
            }
        }
    }
}

#[tonic::async_trait]
impl TokenService for TokenServiceApi {
    async fn issue_token(
        &self,
        request: Request<pb::IssueTokenRequest>,
    ) -> Result<Response<pb::IssueTokenResponse>, Status> {
        let (metadata, extensions, body) = request.into_parts();
        let credentials = body_credentials!(body);
        let request = TokenRequest {
            grant_type: body.grant_type,
            presented: presented(&metadata, &extensions, credentials),
            scope: body.scope,
            audiences: body.audience,
            exchange: Exchange::default(),
            assertion: body.assertion,
            dpop: dpop(&metadata, &extensions),
        };
        let issued = self.issued(request, &extensions).await?;
        Ok(Response::new(pb::IssueTokenResponse {
            expires_in: issued.expires_in,
            token_type: issued.token_type.into(),
            access_token: issued.access_token,
            scope: issued.scope,
        }))
    }

    async fn exchange_token(
        &self,
        request: Request<pb::ExchangeTokenRequest>,
    ) -> Result<Response<pb::ExchangeTokenResponse>, Status> {
        let (metadata, extensions, body) = request.into_parts();
        let credentials = body_credentials!(body);
        let request = TokenRequest {
            grant_type: TOKEN_EXCHANGE.into(),
            presented: presented(&metadata, &extensions, credentials),
            scope: body.scope,
            audiences: body.audience.into_iter().chain(body.resource).collect(),
            exchange: Exchange {
                subject_token: body.subject_token,
                subject_token_type: body.subject_token_type,
                actor_token: body.actor_token,
                actor_token_type: body.actor_token_type,
                requested_token_type: body.requested_token_type,
                request_context: body.request_context,
                request_details: body.request_details,
            },
            assertion: String::new(),
            dpop: dpop(&metadata, &extensions),
        };
        let issued = self.issued(request, &extensions).await?;
        Ok(Response::new(pb::ExchangeTokenResponse {
            expires_in: issued.expires_in,
            token_type: issued.token_type.into(),
            access_token: issued.access_token,
            issued_token_type: issued.issued_token_type.unwrap_or(ACCESS_TOKEN_TYPE).into(),
            scope: issued.scope,
        }))
    }

    async fn introspect(
        &self,
        request: Request<pb::IntrospectRequest>,
    ) -> Result<Response<pb::IntrospectResponse>, Status> {
        let (metadata, extensions, body) = request.into_parts();
        let presented = presented(&metadata, &extensions, BodyCredentials::default());
        let introspected = self.authority.introspect(presented, &body.token, body.signed_response).await?;
        self.metrics.introspected(matches!(introspected.answer, Introspection::Active(_)));
        let mut answer = match introspected.answer {
            Introspection::Inactive => pb::IntrospectResponse::default(),
            Introspection::Active(claims) => pb::IntrospectResponse {
                active: true,
                token_type: claims.token_type().into(),
                scope: claims.scope,
                client_id: claims.client_id,
                sub: claims.sub,
                aud: claims.aud,
                iss: claims.iss,
                exp: claims.exp,
                iat: claims.iat,
                nbf: claims.nbf,
                jti: claims.jti,
                cnf: claims.cnf.map(|cnf| pb::Confirmation {
                    x5t_s256: cnf.x5t_s256.unwrap_or_default(),
                    jkt: cnf.jkt.unwrap_or_default(),
                }),
                federated: claims.federated.map(|from| pb::FederatedSubject { iss: from.iss, sub: from.sub }),
                claims: EncodedStruct::of_claims(&claims.claims),
                act: claims.act.map(acting_party),
                signed_response: String::new(),
            },
        };
        answer.signed_response = introspected.signed.unwrap_or_default();
        Ok(Response::new(answer))
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

    async fn get_status_list(
        &self,
        request: Request<pb::GetStatusListRequest>,
    ) -> Result<Response<pb::GetStatusListResponse>, Status> {
        let published = self.authority.status_list_at(&request.into_inner().uri).await?;
        Ok(Response::new(pb::GetStatusListResponse { status_list_token: published.token.to_string() }))
    }
}

/// The `act` claim, nested as the token has it.
fn acting_party(act: Act) -> pb::ActingParty {
    pb::ActingParty { sub: act.sub, act: act.act.map(|earlier| Box::new(acting_party(*earlier))) }
}
