//! A concurrent map split into independently locked shards, so that requests of different
//! callers rarely wait for each other. Critical sections are a hash lookup and a few integer
//! operations; nothing is awaited under a lock.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Mutex, MutexGuard};

/// Shards per map: a few per core keeps contention negligible.
const SHARDS: usize = 32;

pub struct Sharded<K, V> {
    shards: Box<[Mutex<HashMap<K, V>>]>,
    hasher: RandomState,
}

impl<K: Hash + Eq, V> Default for Sharded<K, V> {
    fn default() -> Self {
        Sharded {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl<K: Hash + Eq, V> Sharded<K, V> {
    /// The shard holding `key`, locked.
    pub fn shard(&self, key: &K) -> MutexGuard<'_, HashMap<K, V>> {
        let index = (self.hasher.hash_one(key) as usize) % self.shards.len();
        lock(&self.shards[index])
    }

    /// Every shard in turn, locked one at a time.
    pub fn each_shard(&self, mut visit: impl FnMut(&mut HashMap<K, V>)) {
        for shard in self.shards.iter() {
            visit(&mut lock(shard));
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards.iter().map(|shard| lock(shard).len()).sum()
    }
}

/// A poisoned shard only means a panic elsewhere mid-update of plain counters: keep serving.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
