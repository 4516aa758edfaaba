//! A value read from the store that nearly every request needs and an administrator rarely
//! changes (license types, signing keys, table specs, fact definitions), kept for a moment.
//!
//! A change made through this process clears it at once ([`Cached::clear`]); a change made by
//! another process (a CLI command against the same database) shows within the time to live.

use shuju_types::Result;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a cached read is trusted.
pub const TTL: Duration = Duration::from_secs(1);

/// One cached value (see the module documentation).
pub struct Cached<T> {
    ttl: Duration,
    slot: Mutex<Option<(Instant, Arc<T>)>>,
    /// Bumped by every clear: a read that began before a clear does not keep its value.
    generation: AtomicU64,
}

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached::new(TTL)
    }
}

impl<T> std::fmt::Debug for Cached<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cached").field("ttl", &self.ttl).finish()
    }
}

impl<T> Cached<T> {
    pub fn new(ttl: Duration) -> Cached<T> {
        Cached {
            ttl,
            slot: Mutex::new(None),
            generation: AtomicU64::new(0),
        }
    }

    /// The value, read by `load` when none is held or it is older than the time to live.
    pub async fn get<F, Fut>(&self, load: F) -> Result<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if let Some((at, v)) = &*self.slot.lock().unwrap_or_else(|e| e.into_inner())
            && at.elapsed() < self.ttl
        {
            return Ok(v.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let v = Arc::new(load().await?);
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            *slot = Some((Instant::now(), v.clone()));
        }
        Ok(v)
    }

    /// Forget the value: the next read goes to the store.
    pub fn clear(&self) {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        *slot = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_once_until_cleared_or_stale() {
        let c: Cached<u32> = Cached::new(Duration::from_millis(50));
        assert_eq!(*c.get(|| async { Ok(1) }).await.unwrap(), 1);
        assert_eq!(*c.get(|| async { Ok(2) }).await.unwrap(), 1, "held");
        c.clear();
        assert_eq!(*c.get(|| async { Ok(3) }).await.unwrap(), 3, "cleared");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(*c.get(|| async { Ok(4) }).await.unwrap(), 4, "stale");
        let e = c
            .get(|| async { Err(shuju_types::Error::internal("down")) })
            .await;
        assert!(e.is_ok(), "a fresh value is served without a read");
    }

    #[tokio::test]
    async fn a_read_begun_before_a_clear_is_not_kept() {
        let c: Arc<Cached<u32>> = Arc::new(Cached::new(Duration::from_secs(60)));
        let c2 = c.clone();
        let v = c
            .get(|| async move {
                c2.clear();
                Ok(1)
            })
            .await
            .unwrap();
        assert_eq!(*v, 1, "the reader gets what it read");
        assert_eq!(
            *c.get(|| async { Ok(2) }).await.unwrap(),
            2,
            "but it is not kept"
        );
    }
}
