//! Client lifecycle: create, read, page through, change, rotate secrets, delete.

use std::collections::{BTreeMap, HashMap};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

use super::Registry;
use crate::{
    authority::{Actor, AuthError, EventType, KeyInfo, KeyRing, paging, tokens::random_tag},
    domain::{
        AudienceList, AuthMethods, CertificateSubject, Client, ClientAuth, ClientClaims, ClientDetails,
        ClientId, ClientSecret, FederatedIdentity, GrantType, GrantTypes, InvalidValue, Jwks, JwksUri,
        RateLimit, ScopeSet, SecretInfo, SecretMaxAge, TokenTtl, quoted,
    },
    store::{ClientRow, RegistrationRow, StoreError},
};

const MAX_DISPLAY_NAME: usize = 200;
/// A week: longer overlaps leave a leaked secret working too long.
const MAX_GRACE_SECONDS: i64 = 7 * 24 * 3600;

/// A client as an administrator describes it, before any of it is checked.
#[derive(Debug, Clone, Default)]
pub struct ClientDraft {
    pub client_id: String,
    pub display_name: String,
    pub allowed_scopes: Vec<String>,
    /// Empty: every allowed scope.
    pub default_scopes: Vec<String>,
    pub audiences: Vec<String>,
    /// 0 selects the default lifetime.
    pub token_ttl_seconds: i64,
    pub auth: AuthDraft,
    /// Token requests a second, across the fleet; 0 for unlimited.
    pub rate_limit_per_second: u32,
    /// 0 selects one second's worth.
    pub rate_limit_burst: u32,
    /// Lifetime of the client's new secrets; 0 takes the server's setting.
    pub secret_max_age_seconds: i64,
    /// Claims added to every token the client gets; empty for none.
    pub claims: Map<String, Value>,
    /// Audiences of delegated tokens it may obtain by token exchange.
    pub token_exchange_audiences: Vec<String>,
    /// Whether it may ask for Transaction Tokens.
    pub txn_token_requester: bool,
    /// The grants it may use (RFC 7591 names); empty: `client_credentials`.
    pub grant_types: Vec<String>,
}

impl ClientDraft {
    /// The client id, and every other field as a change to a blank client:
    /// a new client is parsed by the same [`ClientChanges::apply`] as a change.
    fn into_changes(self) -> (String, ClientChanges) {
        let mut auth = self.auth;
        let federated = std::mem::take(&mut auth.federated);
        let changes = ClientChanges {
            display_name: Some(self.display_name),
            // RFC 6749 §3.3: a request without scope needs defaults; none named, all allowed.
            default_scopes: Some(match self.default_scopes.is_empty() {
                true => self.allowed_scopes.clone(),
                false => self.default_scopes,
            }),
            allowed_scopes: Some(self.allowed_scopes),
            audiences: Some(self.audiences),
            token_ttl_seconds: Some(self.token_ttl_seconds),
            federated: Some(federated),
            rate_limit_per_second: Some(self.rate_limit_per_second),
            rate_limit_burst: Some(self.rate_limit_burst),
            secret_max_age_seconds: Some(self.secret_max_age_seconds),
            claims: Some(self.claims),
            token_exchange_audiences: Some(self.token_exchange_audiences),
            txn_token_requester: Some(self.txn_token_requester),
            grant_types: Some(self.grant_types),
            ..ClientChanges::replacing_auth(auth)
        };
        (self.client_id, changes)
    }
}

/// How a client authenticates, as an administrator describes it (the RFC
/// 7591 / RFC 8705 registration metadata), before any of it is checked.
#[derive(Debug, Clone, Default)]
pub struct AuthDraft {
    /// `token_endpoint_auth_methods`; empty selects the two secret methods.
    pub methods: Vec<String>,
    /// At most one of the three is non-empty.
    pub tls_subject_dn: String,
    pub tls_san_dns: String,
    pub tls_san_uri: String,
    /// A JWK Set as JSON text; empty for none.
    pub jwks: String,
    /// Where the client's JWK Set is published; empty for none.
    pub jwks_uri: String,
    pub bound_tokens: bool,
    /// Every token request must carry a DPoP proof (`dpop_bound_access_tokens`).
    pub dpop_bound: bool,
    /// External workloads that act as the client. With these and no
    /// methods, the client has no credentials of its own (`none`).
    pub federated: Vec<IdentityDraft>,
}

/// A federated identity as an administrator describes it.
#[derive(Debug, Clone, Default)]
pub struct IdentityDraft {
    pub issuer: String,
    pub subject: String,
    pub claims: BTreeMap<String, String>,
}

impl AuthDraft {
    /// Parses and checks how a client authenticates, for a client with `grants`.
    fn parse(self, grants: GrantTypes) -> Result<ClientAuth, AuthError> {
        let methods = match self.methods.is_empty() && !self.federated.is_empty() {
            true => AuthMethods::NONE,
            false => AuthMethods::parse_each(self.methods.iter().map(String::as_str))
                .map_err(invalid("token_endpoint_auth_methods"))?,
        };
        let auth = ClientAuth {
            methods,
            tls_subject: CertificateSubject::parse(
                &self.tls_subject_dn,
                &self.tls_san_dns,
                &self.tls_san_uri,
            )
            .map_err(invalid(self.subject_field()))?,
            jwks: match self.jwks.trim() {
                "" => None,
                jwks => Some(Jwks::parse(jwks).map_err(invalid("jwks"))?),
            },
            jwks_uri: match self.jwks_uri.trim() {
                "" => None,
                uri => Some(JwksUri::parse("jwks_uri", uri).map_err(invalid("jwks_uri"))?),
            },
            bound_tokens: self.bound_tokens,
            dpop_bound: self.dpop_bound,
            federated: self
                .federated
                .into_iter()
                .map(|identity| {
                    FederatedIdentity::parse(&identity.issuer, &identity.subject, identity.claims)
                })
                .collect::<Result<_, _>>()
                .map_err(invalid("federated_identities"))?,
        };
        auth.check(grants.contains(GrantType::JwtBearer)).map_err(|(field, err)| invalid(field)(err))?;
        Ok(auth)
    }

    /// Which of the certificate-name fields a refusal of the subject is about:
    /// the one set (or the first, when more than one is).
    fn subject_field(&self) -> &'static str {
        match (self.tls_subject_dn.is_empty(), self.tls_san_dns.is_empty()) {
            (false, _) => "tls_client_auth_subject_dn",
            (true, false) => "tls_client_auth_san_dns",
            (true, true) => "tls_client_auth_san_uri",
        }
    }
}

impl From<&ClientAuth> for AuthDraft {
    fn from(auth: &ClientAuth) -> Self {
        let [tls_subject_dn, tls_san_dns, tls_san_uri] =
            CertificateSubject::fields(auth.tls_subject.as_ref());
        AuthDraft {
            methods: auth.methods.to_strings(),
            tls_subject_dn,
            tls_san_dns,
            tls_san_uri,
            jwks: auth.jwks.as_ref().map(|keys| keys.as_str().to_owned()).unwrap_or_default(),
            jwks_uri: auth.jwks_uri.as_ref().map(|uri| uri.to_string()).unwrap_or_default(),
            bound_tokens: auth.bound_tokens,
            dpop_bound: auth.dpop_bound,
            federated: auth.federated.iter().map(IdentityDraft::from).collect(),
        }
    }
}

impl From<&FederatedIdentity> for IdentityDraft {
    fn from(identity: &FederatedIdentity) -> Self {
        IdentityDraft {
            issuer: identity.issuer.clone(),
            subject: identity.subject.as_str().to_owned(),
            claims: identity.claims.clone(),
        }
    }
}

/// The fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ClientChanges {
    pub display_name: Option<String>,
    pub allowed_scopes: Option<Vec<String>>,
    pub default_scopes: Option<Vec<String>>,
    pub audiences: Option<Vec<String>>,
    pub token_ttl_seconds: Option<i64>,
    pub active: Option<bool>,
    pub auth_methods: Option<Vec<String>>,
    pub tls_subject_dn: Option<String>,
    pub tls_san_dns: Option<String>,
    pub tls_san_uri: Option<String>,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub bound_tokens: Option<bool>,
    pub dpop_bound: Option<bool>,
    pub federated: Option<Vec<IdentityDraft>>,
    pub rate_limit_per_second: Option<u32>,
    pub rate_limit_burst: Option<u32>,
    pub secret_max_age_seconds: Option<i64>,
    pub claims: Option<Map<String, Value>>,
    pub token_exchange_audiences: Option<Vec<String>>,
    pub txn_token_requester: Option<bool>,
    pub grant_types: Option<Vec<String>>,
}

impl ClientChanges {
    /// Changes that replace how a client authenticates with `auth`: all of
    /// it but its federated identities, which change on their own.
    pub fn replacing_auth(auth: AuthDraft) -> Self {
        ClientChanges {
            auth_methods: Some(auth.methods),
            tls_subject_dn: Some(auth.tls_subject_dn),
            tls_san_dns: Some(auth.tls_san_dns),
            tls_san_uri: Some(auth.tls_san_uri),
            jwks: Some(auth.jwks),
            jwks_uri: Some(auth.jwks_uri),
            bound_tokens: Some(auth.bound_tokens),
            dpop_bound: Some(auth.dpop_bound),
            ..ClientChanges::default()
        }
    }

    /// The names of the fields these changes set, as the contract names them
    /// (the `active` flag is an event of its own).
    fn field_names(&self) -> Vec<&'static str> {
        let set = [
            (self.display_name.is_some(), "display_name"),
            (self.allowed_scopes.is_some(), "allowed_scopes"),
            (self.default_scopes.is_some(), "default_scopes"),
            (self.audiences.is_some(), "audiences"),
            (self.token_ttl_seconds.is_some(), "token_ttl_seconds"),
            (self.auth_methods.is_some(), "token_endpoint_auth_methods"),
            (self.tls_subject_dn.is_some(), "tls_client_auth_subject_dn"),
            (self.tls_san_dns.is_some(), "tls_client_auth_san_dns"),
            (self.tls_san_uri.is_some(), "tls_client_auth_san_uri"),
            (self.jwks.is_some(), "jwks"),
            (self.jwks_uri.is_some(), "jwks_uri"),
            (self.bound_tokens.is_some(), "tls_client_certificate_bound_access_tokens"),
            (self.dpop_bound.is_some(), "dpop_bound_access_tokens"),
            (self.federated.is_some(), "federated_identities"),
            (self.rate_limit_per_second.is_some(), "rate_limit_per_second"),
            (self.rate_limit_burst.is_some(), "rate_limit_burst"),
            (self.secret_max_age_seconds.is_some(), "secret_max_age_seconds"),
            (self.claims.is_some(), "claims"),
            (self.token_exchange_audiences.is_some(), "token_exchange_audiences"),
            (self.txn_token_requester.is_some(), "txn_token_requester"),
            (self.grant_types.is_some(), "grant_types"),
        ];
        set.into_iter().filter(|(is_set, _)| *is_set).map(|(_, name)| name).collect()
    }

    /// Makes these changes to `client`, each field parsed here and only here
    /// (for a new client and a changed one alike), then checks the client as
    /// a whole. The `active` flag is the caller's: it is an event of its own.
    fn apply(mut self, client: &mut Client) -> Result<(), AuthError> {
        if let Some(grants) = self.grant_types.take() {
            client.grant_types =
                GrantTypes::parse_each(grants.iter().map(String::as_str)).map_err(invalid("grant_types"))?;
        }
        client.auth = self.apply_to_auth(&client.auth, client.grant_types)?;
        if self.rate_limit_per_second.is_some() || self.rate_limit_burst.is_some() {
            let current = client.rate_limit.map_or((0, 0), |limit| (limit.per_second, limit.burst));
            let per_second = self.rate_limit_per_second.unwrap_or(current.0);
            let burst = self.rate_limit_burst.unwrap_or(current.1);
            // A burst without a rate is the burst's fault; anything else the rate's.
            let field = match (per_second, burst) {
                (0, 1..) => "rate_limit_burst",
                _ => "rate_limit_per_second",
            };
            client.rate_limit = RateLimit::parse(per_second, burst).map_err(invalid(field))?;
        }
        if let Some(seconds) = self.secret_max_age_seconds {
            client.secret_max_age =
                SecretMaxAge::parse(seconds).map_err(invalid("secret_max_age_seconds"))?;
        }
        if let Some(audiences) = self.token_exchange_audiences {
            client.token_exchange_audiences = exchange_audiences(&audiences)?;
        }
        if let Some(requester) = self.txn_token_requester {
            client.txn_token_requester = requester;
        }
        if let Some(claims) = self.claims {
            client.claims = ClientClaims::from_members(claims).map_err(invalid("claims"))?;
        }
        if let Some(name) = self.display_name {
            client.display_name = parse_display_name(name)?;
        }
        if let Some(scopes) = self.allowed_scopes {
            client.allowed_scopes =
                ScopeSet::parse_each(scopes.iter().map(String::as_str)).map_err(invalid("allowed_scopes"))?;
        }
        if let Some(scopes) = self.default_scopes {
            client.default_scopes =
                ScopeSet::parse_each(scopes.iter().map(String::as_str)).map_err(invalid("default_scopes"))?;
        }
        if let Some(audiences) = self.audiences {
            client.audiences = AudienceList::parse_each(audiences.iter().map(String::as_str))
                .map_err(invalid("audiences"))?;
        }
        if let Some(seconds) = self.token_ttl_seconds {
            client.token_ttl = TokenTtl::parse(seconds).map_err(invalid("token_ttl_seconds"))?;
        }
        check_defaults_allowed(client)
    }

    /// `auth` with these changes made to it, checked again as a whole for a
    /// client with `grants`.
    fn apply_to_auth(&mut self, auth: &ClientAuth, grants: GrantTypes) -> Result<ClientAuth, AuthError> {
        let mut draft = AuthDraft::from(auth);
        let fields = [
            (self.tls_subject_dn.take(), &mut draft.tls_subject_dn),
            (self.tls_san_dns.take(), &mut draft.tls_san_dns),
            (self.tls_san_uri.take(), &mut draft.tls_san_uri),
            (self.jwks.take(), &mut draft.jwks),
            (self.jwks_uri.take(), &mut draft.jwks_uri),
        ];
        for (change, field) in fields {
            if let Some(value) = change {
                *field = value;
            }
        }
        if let Some(methods) = self.auth_methods.take() {
            draft.methods = methods;
        }
        if let Some(bound) = self.bound_tokens {
            draft.bound_tokens = bound;
        }
        if let Some(bound) = self.dpop_bound {
            draft.dpop_bound = bound;
        }
        if let Some(federated) = self.federated.take() {
            draft.federated = federated;
        }
        draft.parse(grants)
    }
}

/// One page of clients and the token that fetches the next (`None` on the last page).
#[derive(Debug)]
pub struct ClientPage {
    pub clients: Vec<ClientDetails>,
    pub next_page_token: Option<String>,
}

impl Registry {
    /// Registers a client with its first secret, returned this once, on
    /// `actor`'s behalf; a client that authenticates without a secret gets none.
    pub async fn create(
        &self,
        draft: ClientDraft,
        actor: &Actor,
    ) -> Result<(ClientDetails, Option<ClientSecret>), AuthError> {
        self.create_registered(draft, actor, None).await
    }

    /// [`Self::create`], with the client's dynamic `registration` (RFC 7591)
    /// written beside it when it came by one.
    pub(crate) async fn create_registered(
        &self,
        draft: ClientDraft,
        actor: &Actor,
        registration: Option<&RegistrationRow>,
    ) -> Result<(ClientDetails, Option<ClientSecret>), AuthError> {
        let now = self.clock.now();
        let (client_id, changes) = draft.into_changes();
        let mut client = blank_client(&client_id, now)?;
        changes.apply(&mut client)?;
        let first = match client.auth.methods.use_secret() {
            true => Some(self.new_secret(&client, now).await?),
            false => None,
        };
        let row = first.as_ref().map(|(_, row)| row);
        let details = json!({
            "allowed_scopes": client.allowed_scopes.to_strings(),
            "audiences": client.audiences.to_strings(),
            "token_endpoint_auth_methods": client.auth.methods.to_strings(),
            "secret_id": row.map(|row| row.secret_id.as_str()),
            "dynamic_registration": registration.is_some(),
        });
        let event =
            actor.event(self.clock.now_millis(), EventType::ClientCreated, client.id.as_str(), details);
        match self.store.insert_client(&ClientRow::from(&client), row, registration, &[event]).await {
            Err(StoreError::Conflict) => {
                return Err(AuthError::AlreadyExists(format!(
                    "client {:?} already exists",
                    client.id.as_str()
                )));
            }
            other => other?,
        }
        self.forget_cached(client.id.as_str());
        let (secret, secrets) = match first {
            Some((secret, row)) => (Some(secret), vec![SecretInfo::from(row)]),
            None => (None, Vec::new()),
        };
        Ok((ClientDetails { client, secrets }, secret))
    }

    pub async fn details(&self, client_id: &str) -> Result<ClientDetails, AuthError> {
        let client = self.existing(client_id).await?;
        let secrets = self.store.live_secrets(client.id.as_str(), self.clock.now()).await?;
        let secrets = secrets.into_iter().map(SecretInfo::from).collect();
        Ok(ClientDetails { client, secrets })
    }

    /// Clients in id order, `page_size` at a time (0 selects 50; at most 500).
    pub async fn list(
        &self,
        page_size: i64,
        page_token: &str,
        prefix: &str,
    ) -> Result<ClientPage, AuthError> {
        let size = paging::page_size(page_size)?;
        let after = decode_page_token(page_token)?;
        // One row more than asked tells whether another page follows.
        let mut rows = self.store.clients_after(&after, prefix, size + 1).await?;
        let more = rows.len() as i64 > size;
        rows.truncate(size as usize);
        let clients = rows.into_iter().map(Client::try_from).collect::<Result<Vec<_>, _>>()?;
        let next_page_token = clients.last().filter(|_| more).map(|c| URL_SAFE_NO_PAD.encode(c.id.as_str()));
        let clients = self.attach_secrets(clients).await?;
        Ok(ClientPage { clients, next_page_token })
    }

    /// The signing keys, newest first, as `ListSigningKeys` shows them.
    pub async fn signing_keys(&self) -> Result<Vec<KeyInfo>, AuthError> {
        Ok(KeyRing::list(&self.store, self.clock.now()).await?.keys)
    }

    /// Changes the fields `changes` sets, on `actor`'s behalf.
    pub async fn update(
        &self,
        client_id: &str,
        changes: ClientChanges,
        actor: &Actor,
    ) -> Result<ClientDetails, AuthError> {
        let fields = changes.field_names();
        let recorded = (!fields.is_empty()).then(|| (EventType::ClientUpdated, json!({ "fields": fields })));
        self.change(client_id, changes, actor, recorded, None).await
    }

    /// Replaces every field of a client registered by dynamic registration
    /// with `draft`'s (RFC 7592 §2.2: what the draft leaves out is reset),
    /// and its registration access token `replacing` with `registration`'s,
    /// on `actor`'s behalf. Its secrets and whether it is active stay. Of
    /// two requests made with one token, one wins; the other changes nothing
    /// and is refused `invalid_token`, as its token no longer is one.
    pub(crate) async fn replace_registered(
        &self,
        draft: ClientDraft,
        actor: &Actor,
        registration: &RegistrationRow,
        replacing: &str,
    ) -> Result<ClientDetails, AuthError> {
        let (client_id, changes) = draft.into_changes();
        let fields = changes.field_names();
        let recorded =
            Some((EventType::ClientUpdated, json!({ "fields": fields, "dynamic_registration": true })));
        match self.change(&client_id, changes, actor, recorded, Some((registration, replacing))).await {
            Err(AuthError::AlreadyExists(_)) => Err(AuthError::InvalidToken(
                "the registration access token was used by another request first".into(),
            )),
            other => other,
        }
    }

    /// Makes `changes` on `actor`'s behalf, recorded in the audit trail as
    /// `recorded` says (and as the `active` flag's own event when it flips),
    /// with the client's new registration access token when it has one.
    pub(super) async fn change(
        &self,
        client_id: &str,
        mut changes: ClientChanges,
        actor: &Actor,
        recorded: Option<(EventType, Value)>,
        registration: Option<(&RegistrationRow, &str)>,
    ) -> Result<ClientDetails, AuthError> {
        let mut client = self.existing(client_id).await?;
        let was_active = client.disabled_at.is_none();
        let active = changes.active.take();
        changes.apply(&mut client)?;
        let now = self.clock.now();
        match active {
            Some(true) => client.disabled_at = None,
            // Disabling is incident response: tokens issued before it stay
            // dead even if the client is enabled again, because a new tag
            // no earlier token carries makes them inactive.
            Some(false) if client.disabled_at.is_none() => {
                client.disabled_at = Some(now);
                client.registration = random_tag::<8>();
            }
            Some(false) | None => {}
        }
        client.updated_at = now;
        let now_millis = self.clock.now_millis();
        let mut events: Vec<_> = recorded
            .into_iter()
            .map(|(kind, details)| actor.event(now_millis, kind, client.id.as_str(), details))
            .collect();
        match (was_active, client.disabled_at.is_none()) {
            (true, false) => {
                events.push(actor.event(now_millis, EventType::ClientDisabled, client_id, json!({})))
            }
            (false, true) => {
                events.push(actor.event(now_millis, EventType::ClientEnabled, client_id, json!({})))
            }
            _ => {}
        }
        let updated = self.store.update_client(&ClientRow::from(&client), registration, &events).await?;
        self.forget_cached(client.id.as_str());
        if !updated {
            return Err(not_found(client_id));
        }
        self.details(client_id).await
    }

    /// Issues a new secret, returned this once, on `actor`'s behalf. Older
    /// secrets keep working for at most `grace_seconds` more; 0 ends them at
    /// once, as after a leak.
    pub async fn rotate_secret(
        &self,
        client_id: &str,
        grace_seconds: i64,
        actor: &Actor,
    ) -> Result<(ClientDetails, ClientSecret), AuthError> {
        if !(0..=MAX_GRACE_SECONDS).contains(&grace_seconds) {
            return Err(AuthError::InvalidField {
                field: "grace_seconds",
                message: format!("grace_seconds must be between 0 and {MAX_GRACE_SECONDS}"),
            });
        }
        let client = self.existing(client_id).await?;
        if !client.auth.methods.use_secret() {
            return Err(AuthError::FailedPrecondition(format!(
                "client {} authenticates without a secret; add a secret method to its token_endpoint_auth_methods first",
                quoted(client_id)
            )));
        }
        let now = self.clock.now();
        let (secret, row) = self.new_secret(&client, now).await?;
        let details = json!({
            "secret_id": row.secret_id,
            "grace_seconds": grace_seconds,
            "expires_at": row.expires_at,
        });
        let event = actor.event(self.clock.now_millis(), EventType::SecretRotated, client_id, details);
        let rotated = self.store.rotate_secret(&row, now + grace_seconds, now, &[event]).await?;
        self.forget_cached(client.id.as_str());
        if !rotated {
            return Err(not_found(client_id));
        }
        Ok((self.details(client_id).await?, secret))
    }

    /// Deletes a client and its secrets, on `actor`'s behalf.
    pub async fn delete(&self, client_id: &str, actor: &Actor) -> Result<(), AuthError> {
        let id = ClientId::parse(client_id).map_err(invalid("client_id"))?;
        let event = actor.event(self.clock.now_millis(), EventType::ClientDeleted, id.as_str(), json!({}));
        let deleted = self.store.delete_client(id.as_str(), self.clock.now(), &[event]).await?;
        self.forget_cached(id.as_str());
        if !deleted {
            return Err(not_found(client_id));
        }
        Ok(())
    }

    pub(super) async fn existing(&self, client_id: &str) -> Result<Client, AuthError> {
        let id = ClientId::parse(client_id).map_err(invalid("client_id"))?;
        let row = self.store.client(&id).await?.ok_or_else(|| not_found(client_id))?;
        Client::try_from(row)
    }

    async fn attach_secrets(&self, clients: Vec<Client>) -> Result<Vec<ClientDetails>, AuthError> {
        let (Some(first), Some(last)) = (clients.first(), clients.last()) else {
            return Ok(Vec::new());
        };
        let rows =
            self.store.live_secrets_between(first.id.as_str(), last.id.as_str(), self.clock.now()).await?;
        let mut by_client: HashMap<String, Vec<SecretInfo>> = HashMap::new();
        for row in rows {
            by_client.entry(row.client_id.clone()).or_default().push(SecretInfo::from(row));
        }
        Ok(clients
            .into_iter()
            .map(|client| {
                let secrets = by_client.remove(client.id.as_str()).unwrap_or_default();
                ClientDetails { client, secrets }
            })
            .collect())
    }
}

/// A client with nothing but its id, a fresh registration tag and the
/// defaults, for a draft's changes to fill in.
fn blank_client(client_id: &str, now: i64) -> Result<Client, AuthError> {
    Ok(Client {
        id: ClientId::parse(client_id).map_err(invalid("client_id"))?,
        display_name: String::new(),
        allowed_scopes: ScopeSet::default(),
        default_scopes: ScopeSet::default(),
        audiences: AudienceList::default(),
        token_ttl: TokenTtl::parse(0).map_err(invalid("token_ttl_seconds"))?,
        disabled_at: None,
        created_at: now,
        updated_at: now,
        registration: random_tag::<8>(),
        auth: AuthDraft::default().parse(GrantTypes::DEFAULT)?,
        rate_limit: None,
        secret_max_age: None,
        claims: ClientClaims::default(),
        token_exchange_audiences: AudienceList::default(),
        txn_token_requester: false,
        grant_types: GrantTypes::DEFAULT,
        registered_dynamically: false,
    })
}

/// A value of the request field `field` (its name in the contract) that
/// does not parse: refused naming the field.
fn invalid(field: &'static str) -> impl FnOnce(InvalidValue) -> AuthError {
    move |err| AuthError::InvalidField { field, message: err.0 }
}

/// `token_exchange_audiences`, refused naming the field in the message too (a
/// bad one would otherwise read as if the client's own audiences were wrong).
fn exchange_audiences(audiences: &[String]) -> Result<AudienceList, AuthError> {
    AudienceList::parse_each(audiences.iter().map(String::as_str)).map_err(|err| AuthError::InvalidField {
        field: "token_exchange_audiences",
        message: format!("token_exchange_audiences: {}", err.0),
    })
}

fn not_found(client_id: &str) -> AuthError {
    AuthError::NotFound(format!("client {} does not exist", quoted(client_id)))
}

fn parse_display_name(name: String) -> Result<String, AuthError> {
    if name.chars().count() > MAX_DISPLAY_NAME || name.chars().any(char::is_control) {
        return Err(AuthError::InvalidField {
            field: "display_name",
            message: format!(
                "display_name must be at most {MAX_DISPLAY_NAME} characters without control characters"
            ),
        });
    }
    Ok(name)
}

fn check_defaults_allowed(client: &Client) -> Result<(), AuthError> {
    match client.default_scopes.first_outside(&client.allowed_scopes) {
        Some(scope) => Err(AuthError::InvalidField {
            field: "default_scopes",
            message: format!("default scope {:?} is not among the allowed scopes", scope.as_str()),
        }),
        None => Ok(()),
    }
}

fn decode_page_token(token: &str) -> Result<String, AuthError> {
    let bad = || AuthError::InvalidArgument("page_token is not one this server issued".into());
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    String::from_utf8(bytes).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drafted(draft: ClientDraft) -> Result<Client, AuthError> {
        let (client_id, changes) = draft.into_changes();
        let mut client = blank_client(&client_id, 1_000)?;
        changes.apply(&mut client)?;
        Ok(client)
    }

    fn orders_worker() -> ClientDraft {
        ClientDraft {
            client_id: "orders-worker".into(),
            display_name: "Orders worker".into(),
            allowed_scopes: vec!["orders.read".into(), "orders.write".into()],
            default_scopes: vec!["orders.read".into()],
            audiences: vec!["orders".into()],
            token_ttl_seconds: 600,
            rate_limit_per_second: 5,
            ..ClientDraft::default()
        }
    }

    #[test]
    fn every_field_of_a_draft_lands_on_the_client() {
        let client = drafted(orders_worker()).unwrap();
        assert_eq!(client.id.as_str(), "orders-worker");
        assert_eq!(client.display_name, "Orders worker");
        assert_eq!(client.allowed_scopes.to_strings(), ["orders.read", "orders.write"]);
        assert_eq!(client.default_scopes.to_strings(), ["orders.read"]);
        assert_eq!(client.audiences.to_strings(), ["orders"]);
        assert_eq!(client.token_ttl.seconds(), 600);
        assert_eq!(client.rate_limit.map(|limit| limit.per_second), Some(5));
        assert!(client.auth.methods.use_secret(), "no methods named: the secret methods");
    }

    #[test]
    fn a_draft_and_a_change_refuse_the_same_value_alike() {
        let draft = ClientDraft { default_scopes: vec!["admin".into()], ..orders_worker() };
        let created = drafted(draft).unwrap_err().to_string();
        let mut client = drafted(orders_worker()).unwrap();
        let change = ClientChanges { default_scopes: Some(vec!["admin".into()]), ..ClientChanges::default() };
        let changed = change.apply(&mut client).unwrap_err().to_string();
        assert_eq!(created, changed);
    }

    #[test]
    fn a_change_leaves_the_fields_it_does_not_name() {
        let mut client = drafted(orders_worker()).unwrap();
        let change = ClientChanges { rate_limit_burst: Some(20), ..ClientChanges::default() };
        change.apply(&mut client).unwrap();
        let limit = client.rate_limit.unwrap();
        assert_eq!((limit.per_second, limit.burst), (5, 20), "the rate kept, the burst changed");
        assert_eq!(client.default_scopes.to_strings(), ["orders.read"]);
        assert_eq!(client.token_ttl.seconds(), 600);
    }

    #[test]
    fn a_change_is_checked_against_the_whole_client() {
        let mut client = drafted(orders_worker()).unwrap();
        let narrower =
            ClientChanges { allowed_scopes: Some(vec!["orders.write".into()]), ..ClientChanges::default() };
        assert!(narrower.apply(&mut client).is_err(), "the default scope would no longer be allowed");
    }
}
