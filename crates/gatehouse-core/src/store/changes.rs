//! Change tracking: every backend counts the changes committed to what it holds, so that
//! readers that keep what they read (the data plane's resolved stages and compiled
//! deployments) reuse it exactly while nothing changed. A store only this process writes
//! counts its own commits; a store several processes write (PostgreSQL) also counts what
//! the others commit, as it hears of them, and while it cannot hear of them it reports a
//! change on every reading, so nothing read is reused.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A store's change counter.
#[derive(Debug)]
pub struct Changes {
    count: AtomicU64,
    /// Whether every change is counted (always for a store only this process writes; for a
    /// shared one, while it hears of the other writers' changes).
    complete: AtomicBool,
}

impl Default for Changes {
    fn default() -> Changes {
        Changes::local()
    }
}

impl Changes {
    /// The counter of a store only this process writes.
    pub fn local() -> Changes {
        Changes {
            count: AtomicU64::new(0),
            complete: AtomicBool::new(true),
        }
    }

    /// The counter of a store other processes write too: incomplete until
    /// [`Changes::hearing`] says the others' changes are heard.
    pub fn shared() -> Changes {
        Changes {
            count: AtomicU64::new(0),
            complete: AtomicBool::new(false),
        }
    }

    /// The current count: equal readings mean nothing was committed between them.
    pub fn now(&self) -> u64 {
        if self.complete.load(Ordering::Acquire) {
            self.count.load(Ordering::Acquire)
        } else {
            self.count.fetch_add(1, Ordering::AcqRel) + 1
        }
    }

    /// One more change was committed.
    pub fn advance(&self) {
        self.count.fetch_add(1, Ordering::Release);
    }

    /// `result` as it is, a change counted when it is a success (a write's outcome).
    pub fn committed<T, E>(&self, result: Result<T, E>) -> Result<T, E> {
        if result.is_ok() {
            self.advance();
        }
        result
    }

    /// Whether the other writers' changes are heard from now on. Either way what was read
    /// before counts as changed (changes may have gone unheard).
    pub fn hearing(&self, heard: bool) {
        self.complete.store(heard, Ordering::Release);
        self.advance();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_stand_still_only_while_every_change_is_counted() {
        let local = Changes::local();
        let a = local.now();
        assert_eq!(local.now(), a);
        local.advance();
        assert_ne!(local.now(), a);
        let shared = Changes::shared();
        assert_ne!(shared.now(), shared.now(), "unheard: every reading differs");
        shared.hearing(true);
        let b = shared.now();
        assert_eq!(shared.now(), b);
        shared.hearing(false);
        assert_ne!(shared.now(), shared.now());
    }
}
