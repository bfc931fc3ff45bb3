//! The writer thread: every write goes through it, and it **group-commits**: it takes every
//! write waiting in its queue, runs each in its own savepoint inside one transaction (a
//! refused change rolls back alone), commits once (one fsync for the batch) and only then
//! answers each caller.

use std::sync::{mpsc, Arc, Mutex};

use rusqlite::Connection;

use super::cache::{DocCache, RootKey};
use crate::store::{StoreError, StoreResult};

/// Work for the writer thread: given the connection, runs inside a savepoint and says
/// whether it succeeded; given `None` (no transaction could be opened) it does nothing. The
/// returned closure is called with the outcome of the batch's COMMIT.
pub type Work = Box<dyn FnOnce(Option<&Connection>) -> (bool, Finish) + Send>;

/// Called with the outcome of the batch's COMMIT.
pub type Finish = Box<dyn FnOnce(StoreResult<()>) + Send>;

/// A write and the root whose cached documents it invalidates (`None`: all of them).
pub struct Job {
    /// The root it writes.
    pub root: Option<RootKey>,
    /// The write.
    pub work: Work,
}

/// Most writes committed together.
const MAX_BATCH: usize = 512;

/// Runs `f` as a job: the returned work sends `f`'s result, once the batch committed, to the
/// returned receiver.
pub fn job<R: Send + 'static>(
    root: Option<RootKey>,
    f: impl FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
) -> (Job, tokio::sync::oneshot::Receiver<StoreResult<R>>) {
    let (tx, rx) = tokio::sync::oneshot::channel::<StoreResult<R>>();
    let work: Work = Box::new(move |conn| {
        let result = match conn {
            Some(conn) => f(conn),
            None => Err(StoreError::Unavailable("cannot begin a transaction".into())),
        };
        let ok = result.is_ok();
        let finish: Finish = Box::new(move |committed| {
            let _ = tx.send(committed.and(result));
        });
        (ok, finish)
    });
    (Job { root, work }, rx)
}

/// The writer thread's loop: until every sender is gone.
pub fn run(conn: Connection, jobs: mpsc::Receiver<Job>, cache: Arc<Mutex<DocCache>>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let msg = e.to_string();
            for job in batch {
                let (_, finish) = (job.work)(None);
                finish(Err(StoreError::Unavailable(msg.clone())));
            }
            continue;
        }
        let mut finishes = Vec::with_capacity(batch.len());
        let mut written = Vec::with_capacity(batch.len());
        for job in batch {
            written.push(job.root);
            let work = job.work;
            let _ = conn.execute_batch("SAVEPOINT job");
            // A panicking change must not take the writer down; its caller gets an error.
            let Ok((ok, finish)) =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(Some(&conn))))
            else {
                let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
                continue;
            };
            let _ = if ok {
                conn.execute_batch("RELEASE job")
            } else {
                conn.execute_batch("ROLLBACK TO job; RELEASE job")
            };
            finishes.push(finish);
        }
        let committed = conn.execute_batch("COMMIT").map_err(StoreError::from);
        if committed.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        if let Ok(mut c) = cache.lock() {
            c.committed(written.iter());
        }
        for finish in finishes {
            finish(match &committed {
                Ok(()) => Ok(()),
                Err(e) => Err(StoreError::Unavailable(e.to_string())),
            });
        }
    }
}
