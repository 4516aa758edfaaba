//! Numbers taken from the store a block at a time (case numbers, status list indices), so a
//! record is numbered, and what carries its number is signed, before the write that keeps it.
//!
//! A number taken and never used is a gap, as a database sequence leaves one on a rollback:
//! nothing refers to it. Two processes on one database (the server and a CLI beside it) take
//! separate blocks, so numbers are unique but not in the order their records were written.

use crate::{Store, WriteTx};
use shuju_types::Result;
use std::ops::Range;
use std::sync::Mutex;

/// What is numbered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    /// `service_cases.id`.
    CaseIds,
    /// The license status list's indices (bounded by the list's size).
    StatusIndices,
}

/// A process's block of one counter's numbers.
#[derive(Debug)]
pub struct Numbers {
    counter: Counter,
    size: i64,
    block: Mutex<Range<i64>>,
}

impl Numbers {
    /// Numbers of `counter`, taken `size` at a time.
    pub fn new(counter: Counter, size: i64) -> Numbers {
        Numbers {
            counter,
            size: size.max(1),
            block: Mutex::new(0..0),
        }
    }

    /// The next number: from this process's block, or from a new one taken in a short write of
    /// its own. Call it before a write the same task holds begins: inside one it would wait on
    /// itself. `None`: the counter is exhausted (the status list is full).
    pub async fn next(&self, store: &Store) -> Result<Option<i64>> {
        if let Some(i) = self.local() {
            return Ok(Some(i));
        }
        let mut tx = store.write().await?;
        // Another task may have taken a block while this one waited for the write.
        if let Some(i) = self.local() {
            return Ok(Some(i));
        }
        let taken = take(&mut tx, self.counter, self.size).await?;
        tx.commit().await?;
        let Some(r) = taken else { return Ok(None) };
        let first = r.start;
        *self.block.lock().unwrap_or_else(|e| e.into_inner()) = first + 1..r.end;
        Ok(Some(first))
    }

    fn local(&self) -> Option<i64> {
        self.block.lock().unwrap_or_else(|e| e.into_inner()).next()
    }
}

/// Take up to `n` numbers of `counter` inside a write (fewer only when a bounded counter is
/// nearly exhausted); `None` when it is.
pub async fn take(tx: &mut WriteTx, counter: Counter, n: i64) -> Result<Option<Range<i64>>> {
    Ok(match counter {
        Counter::CaseIds => Some(crate::service::take_case_ids(tx, n).await?),
        Counter::StatusIndices => crate::license::take_status_indices(tx, n)
            .await?
            .map(|(a, b)| a..b),
    })
}
