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

/// One [`Cached`] value per key (a table, a grant), each read, held and cleared on its own. The
/// keys are named by the system and bounded by what the database holds, so entries are never
/// evicted.
pub struct Keyed<K, T> {
    ttl: Duration,
    entries: Mutex<std::collections::HashMap<K, Arc<Cached<T>>>>,
}

impl<K, T> std::fmt::Debug for Keyed<K, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyed").field("ttl", &self.ttl).finish()
    }
}

impl<K: std::hash::Hash + Eq, T> Keyed<K, T> {
    pub fn new(ttl: Duration) -> Keyed<K, T> {
        Keyed {
            ttl,
            entries: Mutex::new(Default::default()),
        }
    }

    /// The value of `key`, read by `load` when none is held or it is older than the time to live.
    pub async fn get<Q, F, Fut>(&self, key: &Q, load: F) -> Result<Arc<T>>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ToOwned<Owned = K> + ?Sized,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let entry = {
            let mut m = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            match m.get(key) {
                Some(c) => c.clone(),
                None => m
                    .entry(key.to_owned())
                    .or_insert_with(|| Arc::new(Cached::new(self.ttl)))
                    .clone(),
            }
        };
        entry.get(load).await
    }

    /// Forget the value of `key`: its next read goes to the store.
    pub fn clear<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        if let Some(c) = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
        {
            c.clear();
        }
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

    #[tokio::test]
    async fn keyed_values_are_held_and_cleared_each_on_its_own() {
        let c: Keyed<String, u32> = Keyed::new(Duration::from_secs(60));
        assert_eq!(*c.get("a", || async { Ok(1) }).await.unwrap(), 1);
        assert_eq!(*c.get("b", || async { Ok(2) }).await.unwrap(), 2);
        assert_eq!(*c.get("a", || async { Ok(3) }).await.unwrap(), 1, "held");
        c.clear("a");
        c.clear("never read");
        assert_eq!(*c.get("a", || async { Ok(4) }).await.unwrap(), 4, "cleared");
        assert_eq!(*c.get("b", || async { Ok(5) }).await.unwrap(), 2, "b kept");
    }
}
