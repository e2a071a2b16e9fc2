//! Indices for new tokens, from blocks of a list reserved in the store: one
//! block at a time per client (per client acted for, for delegated tokens)
//! on each instance, and a spare reserved in the background once half of it
//! is used, so a busy client never waits on the store. A block's first
//! reservation is small and each next one twice the last, so a client that
//! asks for a few tokens holds few indices and a busy one goes to the store
//! rarely.

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

/// One owner's blocks on this instance.
struct Slot {
    owner: BlockOwner,
    blocks: Mutex<Blocks>,
    /// Held while reserving a block, so one reservation runs at a time;
    /// holds the next block's size.
    next_size: tokio::sync::Mutex<i64>,
}

#[derive(Default)]
struct Blocks {
    current: Option<Cursor>,
    spare: Option<ReservedBlock>,
    /// Whether a spare is being reserved in the background.
    topping_up: bool,
}

struct Cursor {
    block: ReservedBlock,
    next: i64,
}

impl Cursor {
    fn new(block: ReservedBlock) -> Self {
        Self { block, next: block.first }
    }

    /// The next index, while the block has one and its list takes tokens at `now`.
    fn take(&mut self, now: i64) -> Option<i64> {
        let usable = self.next < self.block.first + self.block.size && now < self.block.open_until;
        usable.then(|| {
            self.next += 1;
            self.next - 1
        })
    }
}

impl Blocks {
    /// `(list id, index)` from the current block, or the spare once it is
    /// used up; and whether a spare should be reserved now (half the current
    /// block is used and there is none).
    fn take(&mut self, now: i64) -> Option<((i64, i64), bool)> {
        let index = match self.current.as_mut().and_then(|cursor| cursor.take(now)) {
            Some(index) => index,
            None => {
                let spare = self.spare.take().filter(|spare| now < spare.open_until)?;
                let cursor = self.current.insert(Cursor::new(spare));
                cursor.take(now)?
            }
        };
        let block = self.current.as_ref().map(|cursor| cursor.block)?;
        let half_used = index >= block.first + block.size / 2;
        let top_up = half_used && self.spare.is_none() && !self.topping_up;
        self.topping_up |= top_up;
        Some(((block.list_id, index), top_up))
    }

    fn is_closed(&self, now: i64) -> bool {
        let open = |block: &ReservedBlock| now < block.open_until;
        !self.topping_up
            && self.current.as_ref().is_none_or(|cursor| !open(&cursor.block))
            && self.spare.as_ref().is_none_or(|spare| !open(spare))
    }
}

impl Slot {
    fn blocks(&self) -> std::sync::MutexGuard<'_, Blocks> {
        self.blocks.lock().unwrap_or_else(PoisonError::into_inner)
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
        if let Some(taken) = self.take(&slot, now) {
            return Ok(taken);
        }
        let mut size = slot.next_size.lock().await;
        // Whoever held the lock before may have reserved a block already.
        if let Some(taken) = self.take(&slot, now) {
            return Ok(taken);
        }
        let block = self.store.reserve_status_block(&slot.owner, *size, self.shape, now).await?;
        *size = (*size * 2).min(LARGEST_BLOCK);
        let mut blocks = slot.blocks();
        let cursor = blocks.current.insert(Cursor::new(block));
        let index = cursor.take(now).expect("a new block has its first index");
        Ok((block.list_id, index))
    }

    /// Drops the slots whose blocks can take no more tokens at `now`, which
    /// includes those of clients since disabled or deleted.
    pub fn forget_closed(&self, now: i64) {
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        // A slot whose first block is being reserved has none yet, and is not
        // closed: dropping it would orphan that block, and the owner's next
        // token would reserve another.
        slots.retain(|_, slot| slot.next_size.try_lock().is_err() || !slot.blocks().is_closed(now));
    }

    /// An index from `slot`'s blocks, reserving a spare in the background
    /// when the current block is half used.
    fn take(&self, slot: &Arc<Slot>, now: i64) -> Option<(i64, i64)> {
        let (taken, top_up) = slot.blocks().take(now)?;
        if top_up {
            let (store, shape, slot) = (self.store.clone(), self.shape, slot.clone());
            tokio::spawn(async move {
                let mut size = slot.next_size.lock().await;
                match store.reserve_status_block(&slot.owner, *size, shape, now).await {
                    Ok(block) => {
                        *size = (*size * 2).min(LARGEST_BLOCK);
                        slot.blocks().spare = Some(block);
                    }
                    Err(err) => tracing::warn!(error = %err, "could not reserve status list indices ahead"),
                }
                slot.blocks().topping_up = false;
            });
        }
        Some(taken)
    }

    fn slot(&self, owner: [&str; 4]) -> Arc<Slot> {
        let key = owner.join("\0");
        if let Some(slot) = self.slots.read().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return slot.clone();
        }
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        let [client_id, registration, subject_id, subject_registration] = owner.map(str::to_owned);
        let owner = BlockOwner { client_id, registration, subject_id, subject_registration };
        let slot = Slot { owner, blocks: Mutex::default(), next_size: tokio::sync::Mutex::new(FIRST_BLOCK) };
        slots.entry(key).or_insert_with(|| Arc::new(slot)).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(first: i64, size: i64) -> ReservedBlock {
        ReservedBlock { list_id: 1, first, size, open_until: 100 }
    }

    #[test]
    fn a_spare_is_asked_for_once_at_half_and_taken_when_the_block_is_used_up() {
        let mut blocks = Blocks { current: Some(Cursor::new(block(0, 4))), ..Blocks::default() };
        assert_eq!(blocks.take(10), Some(((1, 0), false)));
        assert_eq!(blocks.take(10), Some(((1, 1), false)));
        assert_eq!(blocks.take(10), Some(((1, 2), true)), "half used: reserve a spare");
        assert_eq!(blocks.take(10), Some(((1, 3), false)), "once");
        assert_eq!(blocks.take(10), None, "used up, and the spare has not come");
        blocks.topping_up = false;
        blocks.spare = Some(block(40, 8));
        assert_eq!(blocks.take(10), Some(((1, 40), false)), "the spare takes over");
        assert!(blocks.spare.is_none());
    }

    #[test]
    fn blocks_of_a_closed_list_give_nothing() {
        let mut blocks =
            Blocks { current: Some(Cursor::new(block(0, 4))), spare: Some(block(4, 4)), ..Blocks::default() };
        assert_eq!(blocks.take(100), None);
        assert!(blocks.is_closed(100));
        assert!(!blocks.is_closed(99));
    }

    #[tokio::test]
    async fn a_slot_whose_first_block_is_being_reserved_is_not_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("b.db").display())).await.unwrap();
        let blocks = IndexBlocks::new(store, ListShape { capacity: 1024, open_seconds: 3600 });
        let owner = ["svc", "r", "", ""];
        let slot = blocks.slot(owner);
        let reserving = slot.next_size.lock().await;
        blocks.forget_closed(0);
        assert!(Arc::ptr_eq(&blocks.slot(owner), &slot), "kept while its block is reserved");
        drop(reserving);
        blocks.forget_closed(0);
        assert!(!Arc::ptr_eq(&blocks.slot(owner), &slot), "an empty slot nobody reserves for is forgotten");
    }
}
