//! The `jti` of each client assertion accepted and not yet expired, shared
//! by every instance on one database so an assertion is accepted once.

use std::{collections::HashSet, fmt::Write as _};

use super::{Store, StoreError};

/// One assertion's id, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionId {
    /// The assertion's `iss`: the client that signed it.
    pub issuer: String,
    pub jti: String,
    pub expires_at: i64,
}

impl Store {
    /// Records `ids` in one statement (one commit for many requests); for
    /// each, false when it was recorded already (a replay), also by an
    /// earlier entry of `ids`.
    pub async fn record_assertion_ids(&self, ids: &[AssertionId]) -> Result<Vec<bool>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let statement = insert_returning_new(ids.len());
        let record = async move {
            // Only placeholders are generated; every value is bound.
            let mut insert = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(statement));
            for id in ids {
                insert = insert.bind(&id.issuer).bind(&id.jti).bind(id.expires_at);
            }
            insert.fetch_all(&self.pool).await
        };
        let mut inserted: HashSet<(String, String)> =
            self.observed("record_assertion_ids", record).await?.into_iter().collect();
        // A row inserted once answers only the first of its entries.
        Ok(ids.iter().map(|id| inserted.remove(&(id.issuer.clone(), id.jti.clone()))).collect())
    }

    /// Forgets the ids of assertions expired before `now`: they cannot be
    /// replayed, as their `exp` refuses them.
    pub async fn forget_assertion_ids(&self, now: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM assertion_ids WHERE expires_at < $1").bind(now).execute(&self.pool).await?;
        Ok(())
    }
}

/// `INSERT … VALUES ($1, $2, $3), … ON CONFLICT DO NOTHING RETURNING` the
/// `(issuer, jti)` of each row it inserted, for `rows` rows.
fn insert_returning_new(rows: usize) -> String {
    let mut statement = String::from("INSERT INTO assertion_ids (issuer, jti, expires_at) VALUES ");
    for row in 0..rows {
        let first = row * 3 + 1;
        let separator = if row == 0 { "" } else { ", " };
        let _ = write!(statement, "{separator}(${first}, ${}, ${})", first + 1, first + 2);
    }
    statement.push_str(" ON CONFLICT (issuer, jti) DO NOTHING RETURNING issuer, jti");
    statement
}
