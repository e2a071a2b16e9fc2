//! `tokend.v1.ClientAdmin`: client lifecycle, secret rotation, client keys
//! and trusted issuers, for bearers of `tokend.admin`.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{convert, metadata::presented};
use crate::authority::{
    Actor, AuthError, Authority, BodyCredentials, ClientKeyAlgorithm, ClientKeyPair, KeyFileFormat, Registry,
};
use crate::contract::pb::{self, client_admin_server::ClientAdmin};

pub struct ClientAdminApi {
    authority: Arc<Authority>,
}

impl ClientAdminApi {
    pub fn new(authority: Arc<Authority>) -> Self {
        Self { authority }
    }

    /// The registry, once the caller's bearer token proves it may
    /// administer, and the caller as the audit trail names it.
    async fn admin<T>(&self, request: &Request<T>) -> Result<(&Registry, Actor), Status> {
        let presented = presented(request.metadata(), request.extensions(), BodyCredentials::default());
        Ok(self.authority.admin(presented).await?)
    }
}

#[tonic::async_trait]
impl ClientAdmin for ClientAdminApi {
    async fn create_client(
        &self,
        request: Request<pb::CreateClientRequest>,
    ) -> Result<Response<pb::CreateClientResponse>, Status> {
        let (registry, actor) = self.admin(&request).await?;
        let (details, secret) = registry.create(request.into_inner().into(), &actor).await?;
        Ok(Response::new(pb::CreateClientResponse {
            client: Some(details.into()),
            client_secret: secret.map(|secret| secret.expose().to_owned()).unwrap_or_default(),
        }))
    }

    async fn get_client(
        &self,
        request: Request<pb::GetClientRequest>,
    ) -> Result<Response<pb::Client>, Status> {
        let (registry, _) = self.admin(&request).await?;
        let details = registry.details(&request.into_inner().client_id).await?;
        Ok(Response::new(details.into()))
    }

    async fn list_clients(
        &self,
        request: Request<pb::ListClientsRequest>,
    ) -> Result<Response<pb::ListClientsResponse>, Status> {
        let (registry, _) = self.admin(&request).await?;
        let body = request.into_inner();
        let page = registry.list(i64::from(body.page_size), &body.page_token, &body.client_id_prefix).await?;
        Ok(Response::new(pb::ListClientsResponse {
            clients: page.clients.into_iter().map(pb::Client::from).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn update_client(
        &self,
        request: Request<pb::UpdateClientRequest>,
    ) -> Result<Response<pb::Client>, Status> {
        let (registry, actor) = self.admin(&request).await?;
        let body = request.into_inner();
        let client = body.client.ok_or_else(|| AuthError::InvalidArgument("client is required".into()))?;
        let client_id = client.client_id.clone();
        let changes = convert::changes(client, body.update_mask)?;
        Ok(Response::new(registry.update(&client_id, changes, &actor).await?.into()))
    }

    async fn rotate_secret(
        &self,
        request: Request<pb::RotateSecretRequest>,
    ) -> Result<Response<pb::RotateSecretResponse>, Status> {
        let (registry, actor) = self.admin(&request).await?;
        let body = request.into_inner();
        let (details, secret) = registry.rotate_secret(&body.client_id, body.grace_seconds, &actor).await?;
        Ok(Response::new(pb::RotateSecretResponse {
            client: Some(details.into()),
            client_secret: secret.expose().to_owned(),
        }))
    }

    async fn delete_client(
        &self,
        request: Request<pb::DeleteClientRequest>,
    ) -> Result<Response<pb::DeleteClientResponse>, Status> {
        let (registry, actor) = self.admin(&request).await?;
        registry.delete(&request.into_inner().client_id, &actor).await?;
        Ok(Response::new(pb::DeleteClientResponse {}))
    }

    async fn add_client_key(
        &self,
        request: Request<pb::AddClientKeyRequest>,
    ) -> Result<Response<pb::AddClientKeyResponse>, Status> {
        let (registry, actor) = self.admin(&request).await?;
        let body = request.into_inner();
        let field = |field| move |message| AuthError::InvalidField { field, message };
        let algorithm: ClientKeyAlgorithm = body.algorithm.parse().map_err(field("algorithm"))?;
        let format: KeyFileFormat = body.format.parse().map_err(field("format"))?;
        let pair = ClientKeyPair::generate(algorithm)?;
        let details = registry.add_client_key(&body.client_id, &pair, &actor).await?;
        let private_key = pair.private_key(format, &body.client_id)?;
        Ok(Response::new(pb::AddClientKeyResponse {
            client: Some(details.into()),
            key_id: pair.kid().to_owned(),
            private_key: private_key.expose().to_owned(),
        }))
    }

    async fn remove_client_key(
        &self,
        request: Request<pb::RemoveClientKeyRequest>,
    ) -> Result<Response<pb::Client>, Status> {
        let (registry, actor) = self.admin(&request).await?;
        let body = request.into_inner();
        Ok(Response::new(registry.remove_client_key(&body.client_id, &body.key_id, &actor).await?.into()))
    }

    async fn list_signing_keys(
        &self,
        request: Request<pb::ListSigningKeysRequest>,
    ) -> Result<Response<pb::ListSigningKeysResponse>, Status> {
        let (registry, _) = self.admin(&request).await?;
        let keys = registry.signing_keys().await?;
        Ok(Response::new(pb::ListSigningKeysResponse {
            signing_keys: keys.into_iter().map(pb::SigningKey::from).collect(),
        }))
    }

    async fn create_trusted_issuer(
        &self,
        request: Request<pb::CreateTrustedIssuerRequest>,
    ) -> Result<Response<pb::TrustedIssuer>, Status> {
        let (registry, actor) = self.admin(&request).await?;
        let issuer = registry.add_trusted_issuer(request.into_inner().into(), &actor).await?;
        Ok(Response::new(issuer.into()))
    }

    async fn get_trusted_issuer(
        &self,
        request: Request<pb::GetTrustedIssuerRequest>,
    ) -> Result<Response<pb::TrustedIssuer>, Status> {
        let (registry, _) = self.admin(&request).await?;
        let issuer = registry.trusted_issuer_details(&request.into_inner().issuer).await?;
        Ok(Response::new(issuer.into()))
    }

    async fn list_trusted_issuers(
        &self,
        request: Request<pb::ListTrustedIssuersRequest>,
    ) -> Result<Response<pb::ListTrustedIssuersResponse>, Status> {
        let (registry, _) = self.admin(&request).await?;
        let issuers = registry.list_trusted_issuers().await?;
        Ok(Response::new(pb::ListTrustedIssuersResponse {
            trusted_issuers: issuers.into_iter().map(pb::TrustedIssuer::from).collect(),
        }))
    }

    async fn delete_trusted_issuer(
        &self,
        request: Request<pb::DeleteTrustedIssuerRequest>,
    ) -> Result<Response<pb::DeleteTrustedIssuerResponse>, Status> {
        let (registry, actor) = self.admin(&request).await?;
        registry.remove_trusted_issuer(&request.into_inner().issuer, &actor).await?;
        Ok(Response::new(pb::DeleteTrustedIssuerResponse {}))
    }
}
