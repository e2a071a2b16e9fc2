//! Token Status Lists in the store: the lists, the blocks of indices each
//! instance reserves for a client, and which indices are INVALID.

use super::{Store, StoreError};

/// Who the tokens of a block of indices are issued to, and whom they act for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlockOwner {
    pub client_id: String,
    pub registration: String,
    /// The client a delegated token acts for and its registration tag; empty otherwise.
    pub subject_id: String,
    pub subject_registration: String,
}

/// Indices `first..first + size` of list `list_id`, for one owner's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservedBlock {
    pub list_id: i64,
    pub first: i64,
    pub size: i64,
    /// When the list stopped taking new blocks (or will): tokens from the
    /// block are minted only before then.
    pub open_until: i64,
}

/// How lists are cut: how many indices each holds, and how long it takes new blocks.
#[derive(Debug, Clone, Copy)]
pub struct ListShape {
    pub capacity: i64,
    pub open_seconds: i64,
}

/// The lists that stopped taking blocks (`opened_at` + `$1`) at or before
/// `$2`, except the newest.
macro_rules! closed_lists {
    () => {
        "SELECT list_id FROM status_lists WHERE opened_at + $1 <= $2 \
         AND list_id < (SELECT MAX(list_id) FROM status_lists)"
    };
}

/// Attempts at reserving before giving up, when other instances keep winning the race.
const RESERVE_ATTEMPTS: usize = 8;

impl Store {
    /// Reserves `size` indices for `owner` in the newest list, or in a new
    /// one when the newest is full or no longer open. The list's count moves
    /// in one statement, so no index is handed out twice, whatever the
    /// number of instances.
    pub async fn reserve_status_block(
        &self,
        owner: &BlockOwner,
        size: i64,
        shape: ListShape,
        now: i64,
    ) -> Result<ReservedBlock, StoreError> {
        let reserve = async {
            for _ in 0..RESERVE_ATTEMPTS {
                // A write first, so SQLite takes its write lock at once (a
                // read upgraded to a write fails when another writer is busy);
                // PostgreSQL re-checks the row once it holds its lock.
                let mut tx = self.pool.begin().await?;
                let taken: Option<(i64, i64, i64)> = sqlx::query_as(
                    "UPDATE status_lists SET allocated = allocated + $1 \
                     WHERE list_id = (SELECT MAX(list_id) FROM status_lists) \
                     AND opened_at + $2 > $3 AND allocated + $1 <= $4 \
                     RETURNING list_id, allocated - $1, opened_at",
                )
                .bind(size)
                .bind(shape.open_seconds)
                .bind(now)
                .bind(shape.capacity)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((list_id, first, opened_at)) = taken else {
                    // The newest list is full or closed (or there is none): open the next.
                    sqlx::query(
                        "INSERT INTO status_lists (list_id, opened_at, allocated) \
                         SELECT COALESCE(MAX(list_id), 0) + 1, $1, 0 FROM status_lists WHERE TRUE \
                         ON CONFLICT (list_id) DO NOTHING",
                    )
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    continue;
                };
                sqlx::query(
                    "INSERT INTO status_blocks (list_id, first_index, size, client_id, registration, \
                     subject_id, subject_registration, reserved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(list_id)
                .bind(first)
                .bind(size)
                .bind(&owner.client_id)
                .bind(&owner.registration)
                .bind(&owner.subject_id)
                .bind(&owner.subject_registration)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                return Ok(ReservedBlock {
                    list_id,
                    first,
                    size,
                    open_until: opened_at + shape.open_seconds,
                });
            }
            Err(sqlx::Error::Protocol("status list reservations kept colliding".into()))
        };
        self.observed("reserve_status_block", reserve).await
    }

    /// Whether list `list_id` exists.
    pub async fn status_list_exists(&self, list_id: i64) -> Result<bool, StoreError> {
        let found = sqlx::query("SELECT 1 FROM status_lists WHERE list_id = $1").bind(list_id);
        self.observed("status_list", found.fetch_optional(&self.pool)).await.map(|row| row.is_some())
    }

    /// The ids of every list, oldest first.
    pub async fn status_list_ids(&self) -> Result<Vec<i64>, StoreError> {
        let ids = sqlx::query_scalar("SELECT list_id FROM status_lists ORDER BY list_id");
        self.observed("status_lists", ids.fetch_all(&self.pool)).await
    }

    /// The INVALID indices of list `list_id` as `(first, count)` runs: each
    /// revoked token's, and every index of a block whose client (or client
    /// acted for) no longer exists, is disabled, or is another registration
    /// of its id than the one the block was reserved for.
    pub async fn invalid_statuses(&self, list_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        let runs = sqlx::query_as(
            "SELECT status_index, 1 FROM revoked_tokens WHERE status_list = $1 AND status_index IS NOT NULL \
             UNION ALL \
             SELECT b.first_index, b.size FROM status_blocks b \
             LEFT JOIN clients c ON c.client_id = b.client_id \
             LEFT JOIN clients s ON s.client_id = b.subject_id \
             WHERE b.list_id = $1 AND ( \
               c.client_id IS NULL OR c.disabled_at IS NOT NULL \
               OR c.registration <> b.registration OR c.created_at > b.reserved_at \
               OR (b.subject_id <> '' AND ( \
                 s.client_id IS NULL OR s.disabled_at IS NOT NULL \
                 OR (b.subject_registration <> '' AND s.registration <> b.subject_registration) \
                 OR s.created_at > b.reserved_at)))",
        )
        .bind(list_id);
        self.observed("invalid_statuses", runs.fetch_all(&self.pool)).await
    }

    /// Removes the lists that stopped taking blocks at or before `closed_by`
    /// (so every token in them has expired), with their blocks; the newest
    /// list stays, so list ids are never used twice. Answers the ids removed.
    pub async fn purge_status_lists(
        &self,
        open_seconds: i64,
        closed_by: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let removed = sqlx::query_scalar(closed_lists!())
            .bind(open_seconds)
            .bind(closed_by)
            .fetch_all(&mut *tx)
            .await?;
        sqlx::query(concat!("DELETE FROM status_blocks WHERE list_id IN (", closed_lists!(), ")"))
            .bind(open_seconds)
            .bind(closed_by)
            .execute(&mut *tx)
            .await?;
        sqlx::query(concat!("DELETE FROM status_lists WHERE list_id IN (", closed_lists!(), ")"))
            .bind(open_seconds)
            .bind(closed_by)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(removed)
    }
}
