//! Indices for new tokens, from blocks of a list reserved in the store: one
//! block at a time per client (per client acted for, for delegated tokens)
//! on each instance. A block's first reservation is small and each next one
//! twice the last, so a client that asks for a few tokens holds few indices
//! and a busy one goes to the store rarely.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError, RwLock},
};

use crate::{
    authority::AuthError,
    store::{BlockOwner, ListShape, ReservedBlock, Store},
};

const FIRST_BLOCK: i64 = 16;
const LARGEST_BLOCK: i64 = 16_384;

pub(super) struct IndexBlocks {
    store: Store,
    shape: ListShape,
    /// By owner, written as one string so a lookup costs one allocation.
    slots: RwLock<HashMap<String, Arc<Slot>>>,
}

/// One owner's current block on this instance.
struct Slot {
    owner: BlockOwner,
    current: Mutex<Option<Cursor>>,
    /// Held while reserving the next block, so callers that find the block
    /// used up together make one reservation; holds that block's size.
    next_size: tokio::sync::Mutex<i64>,
}

struct Cursor {
    block: ReservedBlock,
    next: i64,
}

impl Slot {
    /// The next index of the current block, if it has one left and its list
    /// still takes tokens at `now`.
    fn take(&self, now: i64) -> Option<(i64, i64)> {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        let cursor = current.as_mut().filter(|cursor| {
            cursor.next < cursor.block.first + cursor.block.size && now < cursor.block.open_until
        })?;
        cursor.next += 1;
        Some((cursor.block.list_id, cursor.next - 1))
    }

    fn is_closed(&self, now: i64) -> bool {
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        current.as_ref().is_none_or(|cursor| now >= cursor.block.open_until)
    }
}

impl IndexBlocks {
    pub fn new(store: Store, shape: ListShape) -> Self {
        Self { store, shape, slots: RwLock::default() }
    }

    /// `(list id, index)` for a new token of `owner` at `now`: its client id
    /// and registration tag, and those of the client it acts for (or empty).
    pub async fn allocate(&self, owner: [&str; 4], now: i64) -> Result<(i64, i64), AuthError> {
        let slot = self.slot(owner);
        if let Some(taken) = slot.take(now) {
            return Ok(taken);
        }
        let mut size = slot.next_size.lock().await;
        // Whoever held the lock before may have reserved a block already.
        if let Some(taken) = slot.take(now) {
            return Ok(taken);
        }
        let block = self.store.reserve_status_block(&slot.owner, *size, self.shape, now).await?;
        *size = (*size * 2).min(LARGEST_BLOCK);
        *slot.current.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Cursor { block, next: block.first + 1 });
        Ok((block.list_id, block.first))
    }

    /// Drops the slots whose block can take no more tokens at `now`, which
    /// includes those of clients since disabled or deleted.
    pub fn forget_closed(&self, now: i64) {
        self.slots.write().unwrap_or_else(PoisonError::into_inner).retain(|_, slot| !slot.is_closed(now));
    }

    fn slot(&self, owner: [&str; 4]) -> Arc<Slot> {
        let key = owner.join("\0");
        if let Some(slot) = self.slots.read().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return slot.clone();
        }
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        let [client_id, registration, subject_id, subject_registration] = owner.map(str::to_owned);
        let owner = BlockOwner { client_id, registration, subject_id, subject_registration };
        let slot = Slot { owner, current: Mutex::new(None), next_size: tokio::sync::Mutex::new(FIRST_BLOCK) };
        slots.entry(key).or_insert_with(|| Arc::new(slot)).clone()
    }
}
