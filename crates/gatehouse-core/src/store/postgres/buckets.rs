//! Token buckets in the database, shared by every replica: each take refills by the
//! database's clock and takes one token from every bucket named, all or none, in one
//! transaction.

use async_trait::async_trait;

use super::PostgresStore;
use crate::error::ApiResult;
use crate::store::StoreResult;
use crate::token_bucket::{BucketSpec, TokenBuckets};

#[async_trait]
impl TokenBuckets for PostgresStore {
    async fn take(&self, owner: &str, buckets: &[BucketSpec]) -> ApiResult<bool> {
        self.take_tokens(owner, buckets)
            .await
            .map_err(|e| e.into_api_error())
    }
}

impl PostgresStore {
    async fn take_tokens(&self, owner: &str, buckets: &[BucketSpec]) -> StoreResult<bool> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        for b in buckets {
            // Refill by the database's clock (shared by all replicas), then take one token;
            // the WHERE refuses the update (no row returned) when less than one is left.
            let row = tx
                .query_opt(
                    "INSERT INTO throttle_buckets AS b (account, bucket, tokens, at)
                     VALUES ($1, $2, $3::float8 - 1, clock_timestamp())
                     ON CONFLICT (account, bucket) DO UPDATE SET
                       tokens = LEAST($3::float8, b.tokens + EXTRACT(EPOCH FROM (clock_timestamp() - b.at)) * $4::float8) - 1,
                       at = clock_timestamp()
                     WHERE LEAST($3::float8, b.tokens + EXTRACT(EPOCH FROM (clock_timestamp() - b.at)) * $4::float8) >= 1
                     RETURNING tokens",
                    &[&owner, &b.name, &b.burst, &b.rate],
                )
                .await?;
            if row.is_none() {
                // Dropping the transaction rolls back tokens taken from earlier buckets.
                return Ok(false);
            }
        }
        tx.commit().await?;
        Ok(true)
    }
}
