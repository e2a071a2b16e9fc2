//! `tokend.v1.AuditService`: the audit trail, paged and live, for bearers of `tokend.admin`.

use std::{pin::Pin, sync::Arc, time::Duration};

use prost_types::Timestamp;
use tokio::sync::{broadcast::error::RecvError, watch};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::{EncodedStruct, metadata::presented};
use crate::contract::pb::{self, audit_service_server::AuditService};

use crate::authority::{AuditEvent, AuditTrail, Authority, BodyCredentials, EventQuery};

/// Events a stream holds for a slow reader before it waits.
const STREAM_BUFFER: usize = 64;
/// How often a live stream checks again that its bearer token may still
/// administer: revoked, expired or its client disabled, the stream ends
/// within this much (plus the upkeep that brings other instances' changes).
/// The check reads cached state, not the store.
const TOKEN_RECHECK: Duration = Duration::from_secs(1);

pub struct AuditApi {
    authority: Arc<Authority>,
    /// Turns true when the server stops, which ends every live stream.
    stopping: watch::Receiver<bool>,
}

impl AuditApi {
    pub fn new(authority: Arc<Authority>, stopping: watch::Receiver<bool>) -> Self {
        Self { authority, stopping }
    }

    /// The audit trail, once the caller's bearer token proves it may administer.
    async fn audit<T>(&self, request: &Request<T>) -> Result<&AuditTrail, Status> {
        let presented = presented(request.metadata(), request.extensions(), BodyCredentials::default());
        self.authority.admin(presented).await?;
        Ok(self.authority.audit())
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<pb::Event, Status>> + Send>>;

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_events(
        &self,
        request: Request<pb::ListEventsRequest>,
    ) -> Result<Response<pb::ListEventsResponse>, Status> {
        let audit = self.audit(&request).await?;
        let body = request.into_inner();
        let since =
            body.since.map_or(0, |at| at.seconds.saturating_mul(1000) + i64::from(at.nanos) / 1_000_000);
        let query = EventQuery { client_id: body.client_id, types: body.types, since };
        let page = audit.list(&query, i64::from(body.page_size), &body.page_token).await?;
        Ok(Response::new(pb::ListEventsResponse {
            events: page.events.into_iter().map(pb::Event::from).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    type WatchEventsStream = EventStream;

    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        let audit = self.audit(&request).await?;
        let (metadata, extensions, body) = request.into_parts();
        let query = EventQuery { client_id: body.client_id, types: body.types, since: 0 };
        let mut events = audit.watch(&query)?;
        let mut stopping = self.stopping.clone();
        let (sender, receiver) = tokio::sync::mpsc::channel(STREAM_BUFFER);
        let authority = self.authority.clone();
        let mut recheck =
            tokio::time::interval_at(tokio::time::Instant::now() + TOKEN_RECHECK, TOKEN_RECHECK);
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    event = events.recv() => Some(event),
                    _ = recheck.tick() => None,
                    _ = stopping.wait_for(|stopping| *stopping) => return,
                    () = sender.closed() => return,
                };
                let Some(event) = event else {
                    let presented = presented(&metadata, &extensions, BodyCredentials::default());
                    if let Err(refused) = authority.admin(presented).await
                        && refused.ends_the_session()
                    {
                        let _ = sender.send(Err(refused.into())).await;
                        return;
                    }
                    continue;
                };
                let sent = match event {
                    Ok(event) if query.matches(&event) => {
                        sender.send(Ok(pb::Event::from((*event).clone()))).await
                    }
                    Ok(_) => Ok(()),
                    Err(RecvError::Lagged(missed)) => {
                        let message =
                            format!("the stream fell {missed} events behind; list them and watch again");
                        let _ = sender.send(Err(Status::resource_exhausted(message))).await;
                        return;
                    }
                    Err(RecvError::Closed) => return,
                };
                if sent.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(receiver))))
    }
}

impl From<AuditEvent> for pb::Event {
    fn from(event: AuditEvent) -> Self {
        let details = serde_json::from_str(&event.details).unwrap_or_default();
        pb::Event {
            id: event.event_id,
            time: Some(Timestamp {
                seconds: event.occurred_at.div_euclid(1000),
                nanos: (event.occurred_at.rem_euclid(1000) * 1_000_000) as i32,
            }),
            r#type: event.event_type,
            actor: event.actor,
            target: event.target,
            origin: event.origin,
            details: Some(match details {
                serde_json::Value::Object(members) => EncodedStruct::of(&members),
                _ => EncodedStruct::default(),
            }),
        }
    }
}
