//! Dynamic client registration (RFC 7591) and its management (RFC 7592):
//! software registers a client with a standard JSON document, under the
//! policy the operator chose (`--registration`), and reads, replaces or
//! deletes it with the registration access token it got back. That token is
//! a secret: shown once, stored as an argon2id hash, replaced on every
//! update, good for its one client only. A software statement signed by a
//! trusted issuer supplies metadata that wins over the document's.
//!
//! - `metadata` reads and writes the documents;
//! - `limiter` bounds the requests one address may make.

mod limiter;
mod metadata;

use std::{fmt, net::IpAddr, str::FromStr};

use serde_json::{Map, Value};

use super::{Actor, AuthError, Authority, Policy, Presented, authenticate::Credential};
use crate::{
    domain::{ClientDetails, ClientId, ClientSecret},
    store::RegistrationRow,
};
use limiter::{AddressLimiter, FleetQuota};
pub use metadata::MetadataPolicy;

/// The scope of an initial access token: its bearer may register clients.
pub const REGISTER_SCOPE: &str = "tokend.register";
/// Where clients register; each is managed at this path and its client id.
pub const REGISTRATION_PATH: &str = "/oauth/v2/register";

/// Who may register clients (`--registration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegistrationMode {
    /// Nobody: the endpoint answers 404 and discovery does not list it.
    Off,
    /// Bearers of an initial access token: a token with `tokend.register`.
    #[default]
    Token,
    /// Anyone who can reach the endpoint (closed networks only).
    Open,
}

impl FromStr for RegistrationMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" => Ok(RegistrationMode::Off),
            "token" => Ok(RegistrationMode::Token),
            "open" => Ok(RegistrationMode::Open),
            _ => Err(format!("registration is off, token or open, not {s:?}")),
        }
    }
}

impl fmt::Display for RegistrationMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RegistrationMode::Off => "off",
            RegistrationMode::Token => "token",
            RegistrationMode::Open => "open",
        })
    }
}

/// How dynamic registration is offered.
#[derive(Debug, Clone)]
pub struct RegistrationSettings {
    pub mode: RegistrationMode,
    /// What registered clients may be given (`--registration-allowed-*`).
    pub policy: MetadataPolicy,
    /// Requests a minute from one address, to every registration endpoint; 0 is unlimited.
    pub per_address_per_minute: u32,
    /// New registrations a minute across the fleet; 0 is unlimited.
    pub fleet_per_minute: u32,
    /// How long a registered client whose secret was never used is kept; 0 keeps it.
    pub unused_ttl_seconds: i64,
}

impl Default for RegistrationSettings {
    fn default() -> Self {
        Self {
            mode: RegistrationMode::default(),
            policy: MetadataPolicy::default(),
            per_address_per_minute: 30,
            fleet_per_minute: DEFAULT_FLEET_PER_MINUTE,
            unused_ttl_seconds: DEFAULT_UNUSED_TTL_SECONDS,
        }
    }
}

impl RegistrationSettings {
    /// The settings, with the fleet's quota and the unused registrations' lifetime at their defaults.
    pub fn new(mode: RegistrationMode, policy: MetadataPolicy, per_address_per_minute: u32) -> Self {
        Self { mode, policy, per_address_per_minute, ..Self::default() }
    }
}

/// New registrations a minute across the fleet, by default.
pub const DEFAULT_FLEET_PER_MINUTE: u32 = 120;
/// How long a registered client whose secret was never used is kept, by default: a week.
pub const DEFAULT_UNUSED_TTL_SECONDS: i64 = 7 * 24 * 3600;
/// Unused registrations removed at one upkeep at most.
const UNUSED_PER_UPKEEP: i64 = 100;

/// Dynamic registration's state: its settings, the requests each address
/// made, and the fleet's quota of new registrations.
pub struct Registrations {
    settings: RegistrationSettings,
    limiter: AddressLimiter,
    quota: FleetQuota,
}

impl Registrations {
    pub fn new(settings: RegistrationSettings) -> Self {
        let limiter = AddressLimiter::new(settings.per_address_per_minute);
        let quota = FleetQuota::new(settings.fleet_per_minute);
        Self { settings, limiter, quota }
    }

    pub fn mode(&self) -> RegistrationMode {
        self.settings.mode
    }
}

/// A registration access token just made: shown to its holder once, stored as its row.
struct IssuedToken {
    token: ClientSecret,
    row: RegistrationRow,
}

impl Authority {
    /// Who may register clients.
    pub fn registration_mode(&self) -> RegistrationMode {
        self.registrations.mode()
    }

    /// Registers a client from its metadata `document` (RFC 7591 §3.1) for
    /// the caller `presented` proves (an initial access token, unless
    /// registration is open), and answers with its client information: the
    /// id, its secret and its registration access token, each shown this once.
    pub async fn register_client(
        &self,
        presented: Presented<'_>,
        document: &Value,
    ) -> Result<Value, AuthError> {
        let address = self.admit_registration(&presented)?;
        self.registrations.quota.admit(self.clock.now(), self.fleet.size())?;
        // Off was refused by `admit_registration`; open needs no initial token.
        let actor = match self.registrations.mode() {
            RegistrationMode::Open => Actor::anonymous(address.map(|a| a.to_string()).unwrap_or_default()),
            RegistrationMode::Off | RegistrationMode::Token => {
                let caller = self.authenticate(presented, Policy::Register).await?;
                Actor::admin(&caller.client_id, address)
            }
        };
        let document = self.with_software_statement(document).await?;
        let client_id = format!("dcr-{}", super::tokens::random_tag::<12>());
        let draft = metadata::draft(&client_id, &document, &self.registrations.settings.policy)?;
        let issued = self.registration_token(&client_id, actor.name()).await?;
        let (details, secret) = self
            .registry
            .create_registered(draft, &actor, Some(&issued.row))
            .await
            .map_err(metadata::as_metadata_error)?;
        let mut answer = self.client_information(&details, Some(&issued.token));
        if let Some(secret) = secret {
            answer.insert("client_secret".into(), secret.expose().into());
        }
        Ok(Value::Object(answer))
    }

    /// The registered metadata of `client_id` (RFC 7592 §2.1), for the holder
    /// of its registration access token.
    pub async fn registered_client(
        &self,
        presented: Presented<'_>,
        client_id: &str,
    ) -> Result<Value, AuthError> {
        self.registration_holder(presented, client_id).await?;
        let details = self.registry.details(client_id).await?;
        Ok(Value::Object(self.client_information(&details, None)))
    }

    /// Replaces the registered metadata of `client_id` with `document`'s
    /// (RFC 7592 §2.2), for the holder of its registration access token,
    /// whose token is replaced by the new one the answer carries.
    pub async fn update_registered_client(
        &self,
        presented: Presented<'_>,
        client_id: &str,
        document: &Value,
    ) -> Result<Value, AuthError> {
        let (actor, address, token_id) = self.registration_holder(presented, client_id).await?;
        if document.get("client_id").and_then(Value::as_str) != Some(client_id) {
            return Err(AuthError::InvalidClientMetadata {
                field: "client_id",
                message: "client_id must be the client's, as RFC 7592 §2.2 says".into(),
            });
        }
        if let Some(secret) = document.get("client_secret").and_then(Value::as_str) {
            let id = ClientId::parse(client_id).map_err(|err| AuthError::InvalidRequest(err.0))?;
            let secret = ClientSecret::presented(secret);
            if self.secrets.check(&self.registry, &id, &secret, address).await?.is_none() {
                return Err(AuthError::InvalidClientMetadata {
                    field: "client_secret",
                    message: "client_secret is not the client's current secret".into(),
                });
            }
        }
        let document = self.with_software_statement(document).await?;
        let draft = metadata::draft(client_id, &document, &self.registrations.settings.policy)?;
        let issued = self.registration_token(client_id, actor.name()).await?;
        let details = self
            .registry
            .replace_registered(draft, &actor, &issued.row, &token_id)
            .await
            .map_err(metadata::as_metadata_error)?;
        Ok(Value::Object(self.client_information(&details, Some(&issued.token))))
    }

    /// Deletes `client_id` (RFC 7592 §2.3), for the holder of its
    /// registration access token; its tokens introspect inactive from then on.
    pub async fn delete_registered_client(
        &self,
        presented: Presented<'_>,
        client_id: &str,
    ) -> Result<(), AuthError> {
        let (actor, _, _) = self.registration_holder(presented, client_id).await?;
        self.registry.delete(client_id, &actor).await
    }

    /// The metadata `document` gives, with its software statement's (RFC
    /// 7591 §2.3) in place of its own when it carries one.
    async fn with_software_statement(&self, document: &Value) -> Result<Value, AuthError> {
        match document.get("software_statement") {
            None | Some(Value::Null) => Ok(document.clone()),
            Some(Value::String(token)) => {
                let now = self.clock.now();
                let statement = self.assertions.software_statement(&self.registry, token, now).await?;
                Ok(metadata::with_statement(document, statement))
            }
            Some(_) => Err(AuthError::InvalidSoftwareStatement("software_statement must be a JWT".into())),
        }
    }

    /// Removes clients that came by registration longer ago than
    /// `--registration-unused-ttl` and never used their secret: what a
    /// flood of registrations leaves behind. Run by one instance of a fleet.
    pub async fn forget_unused_registrations(&self) -> Result<usize, AuthError> {
        let ttl = self.registrations.settings.unused_ttl_seconds;
        if ttl <= 0 || !self.fleet.leads() {
            return Ok(0);
        }
        let unused = self.store.unused_registrations(self.clock.now() - ttl, UNUSED_PER_UPKEEP).await?;
        for client_id in &unused {
            match self.registry.delete(client_id, &Actor::server()).await {
                Ok(()) | Err(AuthError::NotFound(_)) => {}
                Err(err) => return Err(err),
            }
        }
        if !unused.is_empty() {
            tracing::info!(removed = unused.len(), "removed registered clients that never used their secret");
        }
        Ok(unused.len())
    }

    /// Counts the request against its address's limit; refused when
    /// registration is off. The caller's address.
    fn admit_registration(&self, presented: &Presented<'_>) -> Result<Option<IpAddr>, AuthError> {
        if self.registrations.mode() == RegistrationMode::Off {
            return Err(AuthError::NotFound("dynamic client registration is off on this server".into()));
        }
        let address = presented.peer.as_ref().map(|peer| peer.address);
        self.registrations.limiter.admit(address, self.clock.now())?;
        Ok(address)
    }

    /// The caller, when it presented `client_id`'s registration access token
    /// as a Bearer token: acting as the client itself, from its address,
    /// with the id of the token it presented. Every failure is the
    /// same `invalid_token` (RFC 7592 §2: even for a client that does not
    /// exist), counted in the audit trail.
    async fn registration_holder(
        &self,
        presented: Presented<'_>,
        client_id: &str,
    ) -> Result<(Actor, Option<IpAddr>, String), AuthError> {
        let address = self.admit_registration(&presented)?;
        let refused = || {
            self.audit.authentication_failed(client_id, "registration_access_token", address);
            AuthError::InvalidToken("the registration access token is not valid for this client".into())
        };
        let Credential::Bearer(token) = Credential::from_presented(presented)? else {
            return Err(AuthError::InvalidToken(
                "send the registration access token as a Bearer token".into(),
            ));
        };
        let token = ClientSecret::presented(token);
        let Some(row) = self.store.registration(client_id).await? else {
            return Err(refused());
        };
        let claimed = token.claimed_id().map(|id| id.as_str().to_owned());
        if claimed.as_deref() != Some(row.token_id.as_str())
            || !self.secrets.verify(&token, &row.token_hash).await?
        {
            return Err(refused());
        }
        let id = ClientId::parse(client_id).map_err(|err| AuthError::InvalidRequest(err.0))?;
        Ok((Actor::admin(&id, address), address, row.token_id))
    }

    /// A fresh registration access token for `client_id`, registered by `registrant`.
    async fn registration_token(&self, client_id: &str, registrant: &str) -> Result<IssuedToken, AuthError> {
        let (token_id, token) = ClientSecret::generate();
        let now = self.clock.now();
        let row = RegistrationRow {
            client_id: client_id.to_owned(),
            token_id: token_id.to_string(),
            token_hash: self.secrets.hash(&token).await?,
            registered_by: registrant.to_owned(),
            created_at: now,
            updated_at: now,
        };
        Ok(IssuedToken { token, row })
    }

    /// The client information response (RFC 7591 §3.2.1, RFC 7592 §3): the
    /// metadata, where the client is managed, when its newest secret
    /// expires, and its registration access token when one was just made.
    fn client_information(
        &self,
        details: &ClientDetails,
        token: Option<&ClientSecret>,
    ) -> Map<String, Value> {
        let mut answer = metadata::document(&details.client);
        let uri = format!(
            "{}{REGISTRATION_PATH}/{}",
            self.issuer().trim_end_matches('/'),
            details.client.id.as_str()
        );
        answer.insert("registration_client_uri".into(), uri.into());
        if let Some(newest) = details.secrets.first() {
            answer.insert("client_secret_expires_at".into(), newest.expires_at.unwrap_or(0).into());
        }
        if let Some(token) = token {
            answer.insert("registration_access_token".into(), token.expose().into());
        }
        answer
    }
}
