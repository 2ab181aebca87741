//! A cache of records kept by the one service that changes them (functions by name, flows'
//! latest versions), so a hot path does not read the store. A read that raced a change
//! must not cache what it read: every change bumps a generation before and after, and a
//! read caches only when the generation did not move while it read. With several nodes on
//! one database, a change another node made arrives as a notice (`notices.rs`) and
//! forgets the key the same way.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;

/// Values by key, guarded against caching reads that raced a change.
#[derive(Debug)]
pub struct GuardedCache<K: Eq + Hash, V> {
    map: Arc<DashMap<K, V>>,
    generation: Arc<AtomicU64>,
}

impl<K: Eq + Hash, V> Clone for GuardedCache<K, V> {
    fn clone(&self) -> Self {
        Self { map: self.map.clone(), generation: self.generation.clone() }
    }
}

impl<K: Eq + Hash, V> Default for GuardedCache<K, V> {
    fn default() -> Self {
        Self { map: Arc::new(DashMap::new()), generation: Arc::new(AtomicU64::new(0)) }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> GuardedCache<K, V> {
    /// The cached value, if any (`None` may only mean it is not cached yet).
    pub fn get(&self, key: &K) -> Option<V> {
        self.map.get(key).map(|hit| hit.clone())
    }

    /// The cached value, or what `load` reads, cached unless a change began meanwhile.
    pub async fn get_or_load<E>(&self, key: K, load: impl Future<Output = Result<V, E>>) -> Result<V, E> {
        if let Some(hit) = self.get(&key) {
            return Ok(hit);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let found = load.await?;
        if self.generation.load(Ordering::SeqCst) == generation {
            self.map.entry(key).or_insert_with(|| found.clone());
        }
        Ok(found)
    }

    /// A change begins: reads in flight will not cache what they read.
    pub fn begin_change(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// A change ended: `key` is forgotten.
    pub fn forget(&self, key: &K) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.map.remove(key);
    }

    /// Forgets everything (changes may have been missed).
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.map.clear();
    }

    /// A change ended with `value` stored under `key`.
    pub fn put(&self, key: K, value: V) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.map.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::GuardedCache;

    #[test]
    fn a_read_that_raced_a_change_is_not_cached() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let cache: GuardedCache<&str, u32> = GuardedCache::default();
        let raced = rt.block_on(cache.get_or_load("f", async {
            cache.begin_change();
            Ok::<_, ()>(1)
        }));
        assert_eq!(raced, Ok(1));
        assert_eq!(cache.get(&"f"), None, "read during a change: not cached");
        assert_eq!(rt.block_on(cache.get_or_load("f", async { Ok::<_, ()>(2) })), Ok(2));
        assert_eq!(cache.get(&"f"), Some(2));
        cache.put("f", 3);
        assert_eq!(cache.get(&"f"), Some(3));
        cache.forget(&"f");
        assert_eq!(cache.get(&"f"), None);
    }
}
