//! The statements that read and write trees, on one connection (a reader's, or the writer
//! thread's inside its transaction).

use rusqlite::{params, Connection, OptionalExtension};

use crate::model::Scope;
use crate::store::{Diff, Kind, RawTree, Row, StoreError, StoreResult};

/// A root's document, or `NotFound(kind)`.
pub fn root_doc(conn: &Connection, scope: &Scope, kind: Kind, id: &str) -> StoreResult<String> {
    let doc: Option<String> = conn
        .prepare_cached(
            "SELECT doc FROM roots WHERE account = ?1 AND region = ?2 AND kind = ?3 AND id = ?4",
        )?
        .query_row(
            params![scope.account, scope.region, kind.as_str(), id],
            |r| r.get(0),
        )
        .optional()?;
    doc.ok_or(StoreError::NotFound(kind))
}

/// `Ok` if the root exists, else `NotFound(kind)`.
pub fn root_exists(conn: &Connection, scope: &Scope, kind: Kind, id: &str) -> StoreResult<()> {
    let found: Option<i64> = conn
        .prepare_cached(
            "SELECT 1 FROM roots WHERE account = ?1 AND region = ?2 AND kind = ?3 AND id = ?4",
        )?
        .query_row(
            params![scope.account, scope.region, kind.as_str(), id],
            |r| r.get(0),
        )
        .optional()?;
    found.map(|_| ()).ok_or(StoreError::NotFound(kind))
}

/// The child rows of a root in creation order, except the kinds in the SQL list `except`.
pub fn rows_of(
    conn: &Connection,
    scope: &Scope,
    kind: Kind,
    id: &str,
    except: &str,
) -> StoreResult<Vec<Row>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT kind, key, doc FROM children WHERE account = ?1 AND region = ?2 AND root_kind = ?3 AND root_id = ?4 AND kind NOT IN ({except}) ORDER BY seq"
    ))?;
    let rows = stmt
        .query_map(
            params![scope.account, scope.region, kind.as_str(), id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(k, key, doc)| Ok((Kind::parse(&k)?, key, doc)))
        .collect()
}

/// A root with the rows its tree loads (`unloaded`: the SQL list of the kinds it does not).
pub fn load_tree(
    conn: &Connection,
    scope: &Scope,
    kind: Kind,
    id: &str,
    unloaded: &str,
) -> StoreResult<RawTree> {
    let doc = root_doc(conn, scope, kind, id)?;
    let rows = rows_of(conn, scope, kind, id, unloaded)?;
    Ok(RawTree {
        kind,
        id: id.to_string(),
        doc,
        rows,
    })
}

/// Inserts a root with all its rows; `Conflict` if its id (or a row's key) is taken.
pub fn insert_tree(conn: &Connection, scope: &Scope, tree: &RawTree) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO roots (account, region, kind, id, doc) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        scope.account,
        scope.region,
        tree.kind.as_str(),
        tree.id,
        tree.doc
    ])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO children (account, region, root_kind, root_id, kind, key, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (kind, key, doc) in &tree.rows {
        insert.execute(params![
            scope.account,
            scope.region,
            tree.kind.as_str(),
            tree.id,
            kind.as_str(),
            key,
            doc
        ])?;
    }
    Ok(())
}

/// Deletes a root and everything under it.
pub fn delete_tree(conn: &Connection, scope: &Scope, kind: Kind, id: &str) -> StoreResult<()> {
    conn.execute(
        "DELETE FROM children WHERE account = ?1 AND region = ?2 AND root_kind = ?3 AND root_id = ?4",
        params![scope.account, scope.region, kind.as_str(), id],
    )?;
    conn.execute(
        "DELETE FROM roots WHERE account = ?1 AND region = ?2 AND kind = ?3 AND id = ?4",
        params![scope.account, scope.region, kind.as_str(), id],
    )?;
    Ok(())
}

/// Writes a change's diff to root `id` of `kind`.
pub fn write_diff(
    conn: &Connection,
    scope: &Scope,
    kind: Kind,
    id: &str,
    d: &Diff,
) -> StoreResult<()> {
    let root_kind = kind.as_str();
    if let Some(doc) = &d.root {
        conn.prepare_cached(
            "UPDATE roots SET doc = ?5 WHERE account = ?1 AND region = ?2 AND kind = ?3 AND id = ?4",
        )?
        .execute(params![scope.account, scope.region, root_kind, id, doc])?;
    }
    let mut delete = conn.prepare_cached(
        "DELETE FROM children WHERE account = ?1 AND region = ?2 AND root_kind = ?3 AND root_id = ?4 AND kind = ?5 AND key = ?6",
    )?;
    for (kind, key) in &d.deletes {
        delete.execute(params![
            scope.account,
            scope.region,
            root_kind,
            id,
            kind.as_str(),
            key
        ])?;
    }
    // Changed and new rows alike: an update keeps the row's seq (its place in creation order).
    let mut upsert = conn.prepare_cached(
        "INSERT INTO children (account, region, root_kind, root_id, kind, key, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (account, region, root_kind, root_id, kind, key) DO UPDATE SET doc = excluded.doc",
    )?;
    for (kind, key, doc) in d.updates.iter().chain(&d.inserts) {
        upsert.execute(params![
            scope.account,
            scope.region,
            root_kind,
            id,
            kind.as_str(),
            key,
            doc
        ])?;
    }
    Ok(())
}
