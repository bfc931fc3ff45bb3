//! The statements that read and write trees, on a pooled client or inside a transaction.

use deadpool_postgres::GenericClient;

use crate::model::Scope;
use crate::store::{Diff, Kind, Page, RawTree, Row, StoreError, StoreResult};

/// `Ok` if the root exists, else `NotFound(kind)`.
pub async fn root_exists(
    c: &impl GenericClient,
    scope: &Scope,
    kind: Kind,
    id: &str,
) -> StoreResult<()> {
    let row = c
        .query_opt(
            "SELECT 1 FROM roots WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4",
            &[&scope.account, &scope.region, &kind.as_str(), &id],
        )
        .await?;
    row.map(|_| ()).ok_or(StoreError::NotFound(kind))
}

/// The child rows of a root in creation order, except the kinds in the SQL list `except`.
pub async fn rows_of(
    c: &impl GenericClient,
    scope: &Scope,
    kind: Kind,
    id: &str,
    except: &str,
) -> StoreResult<Vec<Row>> {
    c.query(
        &format!(
            "SELECT kind, key, doc FROM children WHERE account = $1 AND region = $2 AND root_kind = $3 AND root_id = $4 AND kind NOT IN ({except}) ORDER BY seq"
        ),
        &[&scope.account, &scope.region, &kind.as_str(), &id],
    )
    .await?
    .iter()
    .map(|r| Ok((Kind::parse(r.get(0))?, r.get(1), r.get(2))))
    .collect()
}

/// Inserts a root with all its rows; `Conflict` if its id (or a row's key) is taken.
pub async fn insert_tree(c: &impl GenericClient, scope: &Scope, tree: &RawTree) -> StoreResult<()> {
    let inserted = c
        .execute(
            "INSERT INTO roots (account, region, kind, id, doc) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[&scope.account, &scope.region, &tree.kind.as_str(), &tree.id, &tree.doc],
        )
        .await?;
    if inserted == 0 {
        return Err(StoreError::Conflict);
    }
    for (kind, key, doc) in &tree.rows {
        c.execute(
            "INSERT INTO children (account, region, root_kind, root_id, kind, key, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&scope.account, &scope.region, &tree.kind.as_str(), &tree.id, &kind.as_str(), key, doc],
        )
        .await?;
    }
    Ok(())
}

/// Deletes a root and everything under it; `NotFound(kind)` if there is none.
pub async fn delete_tree(
    c: &impl GenericClient,
    scope: &Scope,
    kind: Kind,
    id: &str,
) -> StoreResult<()> {
    let deleted = c
        .execute(
            "DELETE FROM roots WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4",
            &[&scope.account, &scope.region, &kind.as_str(), &id],
        )
        .await?;
    if deleted == 0 {
        return Err(StoreError::NotFound(kind));
    }
    c.execute(
        "DELETE FROM children WHERE account = $1 AND region = $2 AND root_kind = $3 AND root_id = $4",
        &[&scope.account, &scope.region, &kind.as_str(), &id],
    )
    .await?;
    Ok(())
}

/// Deletes a root and everything under it if there is one.
pub async fn delete_tree_if_stored(
    c: &impl GenericClient,
    scope: &Scope,
    kind: Kind,
    id: &str,
) -> StoreResult<()> {
    match delete_tree(c, scope, kind, id).await {
        Ok(()) | Err(StoreError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes a change's diff to root `id` of `kind`.
pub async fn write_diff(
    c: &impl GenericClient,
    scope: &Scope,
    kind: Kind,
    id: &str,
    d: &Diff,
) -> StoreResult<()> {
    let root_kind = kind.as_str();
    if let Some(doc) = &d.root {
        c.execute(
            "UPDATE roots SET doc = $5 WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4",
            &[&scope.account, &scope.region, &root_kind, &id, doc],
        )
        .await?;
    }
    for (kind, key) in &d.deletes {
        c.execute(
            "DELETE FROM children WHERE account = $1 AND region = $2 AND root_kind = $3 AND root_id = $4 AND kind = $5 AND key = $6",
            &[&scope.account, &scope.region, &root_kind, &id, &kind.as_str(), key],
        )
        .await?;
    }
    for (kind, key, doc) in d.updates.iter().chain(&d.inserts) {
        c.execute(
            "INSERT INTO children (account, region, root_kind, root_id, kind, key, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (account, region, root_kind, root_id, kind, key) DO UPDATE SET doc = EXCLUDED.doc",
            &[&scope.account, &scope.region, &root_kind, &id, &kind.as_str(), key, doc],
        )
        .await?;
    }
    Ok(())
}

/// `SELECT seq, doc` queries, paged: the rows and whether more follow.
pub async fn page(
    c: &impl GenericClient,
    sql: &str,
    args: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    limit: usize,
) -> StoreResult<Page<String>> {
    let rows = c.query(sql, args).await?;
    let more = rows.len() > limit;
    let items = rows
        .iter()
        .take(limit)
        .map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1)))
        .collect();
    Ok(Page { items, more })
}
