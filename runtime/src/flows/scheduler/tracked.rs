//! Collections of an execution's state that remember which entries changed since the last
//! write, so a transition stores only what it touched (a long flow's step would otherwise
//! rewrite every task it ever ran). Reads go through `Deref`; every way to change an entry
//! marks it. A collection read back from the store counts as wholly changed, so the first
//! write after a load (or after an old whole-state row) stores everything once.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::{Deref, Index, IndexMut};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which entries changed: all of them, or those listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Changed<K: Ord> {
    /// Every entry (a fresh or freshly loaded collection).
    All,
    /// These entries.
    Some(BTreeSet<K>),
}

impl<K: Ord> Changed<K> {
    fn mark(&mut self, key: K) {
        if let Self::Some(set) = self {
            set.insert(key);
        }
    }
}

/// Entries by name (task records, containers' children), tracking changed names.
#[derive(Debug, Clone)]
pub struct Keyed<V> {
    items: BTreeMap<String, V>,
    changed: Changed<String>,
}

impl<V> Default for Keyed<V> {
    fn default() -> Self {
        Self { items: BTreeMap::new(), changed: Changed::All }
    }
}

impl<V> Keyed<V> {
    /// The entry `key`, to change.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let item = self.items.get_mut(key)?;
        // Marked once: a task touched at every step must not cost a key copy each time.
        if let Changed::Some(set) = &mut self.changed
            && !set.contains(key)
        {
            set.insert(key.to_string());
        }
        Some(item)
    }

    /// Adds or replaces the entry `key`.
    pub fn insert(&mut self, key: String, value: V) {
        self.changed.mark(key.clone());
        self.items.insert(key, value);
    }

    /// Every entry, to change (all count as changed).
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.changed = Changed::All;
        self.items.values_mut()
    }

    /// The entry `key`, to change what is not stored (write bookkeeping).
    pub(crate) fn get_mut_quietly(&mut self, key: &str) -> Option<&mut V> {
        self.items.get_mut(key)
    }

    /// Counts every entry as changed.
    pub(crate) fn mark_all(&mut self) {
        self.changed = Changed::All;
    }

    /// What changed since the last call, and forgets it.
    pub(crate) fn take_changed(&mut self) -> Changed<String> {
        std::mem::replace(&mut self.changed, Changed::Some(BTreeSet::new()))
    }
}

impl<V> Deref for Keyed<V> {
    type Target = BTreeMap<String, V>;

    fn deref(&self) -> &Self::Target {
        &self.items
    }
}

impl<V: PartialEq> PartialEq for Keyed<V> {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl<V> FromIterator<(String, V)> for Keyed<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        Self { items: iter.into_iter().collect(), changed: Changed::All }
    }
}

impl<V: Serialize> Serialize for Keyed<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.items.serialize(serializer)
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Keyed<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self { items: BTreeMap::deserialize(deserializer)?, changed: Changed::All })
    }
}

/// Entries by position (scopes), tracking changed positions.
#[derive(Debug, Clone)]
pub struct Indexed<V> {
    items: Vec<V>,
    changed: Changed<usize>,
}

impl<V> Default for Indexed<V> {
    fn default() -> Self {
        Self { items: Vec::new(), changed: Changed::All }
    }
}

impl<V> Indexed<V> {
    /// The entry at `index`, to change.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut V> {
        let item = self.items.get_mut(index)?;
        self.changed.mark(index);
        Some(item)
    }

    /// Appends an entry.
    pub fn push(&mut self, value: V) {
        self.changed.mark(self.items.len());
        self.items.push(value);
    }

    /// Every entry, to change (all count as changed).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.changed = Changed::All;
        self.items.iter_mut()
    }

    /// Counts every entry as changed.
    pub(crate) fn mark_all(&mut self) {
        self.changed = Changed::All;
    }

    /// What changed since the last call, and forgets it.
    pub(crate) fn take_changed(&mut self) -> Changed<usize> {
        std::mem::replace(&mut self.changed, Changed::Some(BTreeSet::new()))
    }
}

impl<V> Deref for Indexed<V> {
    type Target = [V];

    fn deref(&self) -> &Self::Target {
        &self.items
    }
}

impl<V> Index<usize> for Indexed<V> {
    type Output = V;

    fn index(&self, index: usize) -> &V {
        &self.items[index]
    }
}

impl<V> IndexMut<usize> for Indexed<V> {
    fn index_mut(&mut self, index: usize) -> &mut V {
        self.changed.mark(index);
        &mut self.items[index]
    }
}

impl<V: PartialEq> PartialEq for Indexed<V> {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl<V> From<Vec<V>> for Indexed<V> {
    fn from(items: Vec<V>) -> Self {
        Self { items, changed: Changed::All }
    }
}

impl<V: Serialize> Serialize for Indexed<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.items.serialize(serializer)
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Indexed<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self { items: Vec::deserialize(deserializer)?, changed: Changed::All })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_entries_changed_since_the_last_take_are_reported() {
        let mut tasks: Keyed<u32> = [("a".to_string(), 1), ("b".to_string(), 2)].into_iter().collect();
        assert_eq!(tasks.take_changed(), Changed::All, "a fresh collection is wholly new");
        assert_eq!(tasks.get("a"), Some(&1));
        assert_eq!(tasks.take_changed(), Changed::Some(BTreeSet::new()), "reads change nothing");
        *tasks.get_mut("b").unwrap() = 3;
        tasks.insert("c".into(), 4);
        assert!(tasks.get_mut("missing").is_none());
        let changed = tasks.take_changed();
        assert_eq!(changed, Changed::Some(["b".to_string(), "c".to_string()].into()));

        let mut scopes = Indexed::from(vec![10, 20]);
        scopes.take_changed();
        scopes[1] += 1;
        scopes.push(30);
        let _ = scopes[0];
        assert_eq!(scopes.take_changed(), Changed::Some([1, 2].into()));
        scopes.iter_mut().for_each(|s| *s += 1);
        assert_eq!(scopes.take_changed(), Changed::All);
    }

    #[test]
    fn a_collection_read_back_counts_as_wholly_changed() {
        let scopes: Indexed<u32> = serde_json::from_str("[1,2]").unwrap();
        let mut scopes = scopes;
        assert_eq!(scopes.take_changed(), Changed::All);
        assert_eq!(serde_json::to_string(&scopes).unwrap(), "[1,2]");
    }
}
