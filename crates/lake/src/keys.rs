//! The key table of one delivery: each key's 128-bit hash to the content hash and position of the
//! row that holds it.
//!
//! A delivery of ten million rows makes a table of 128 MB (and 240 MB of keys and hashes kept by
//! position, written in order), so nearly every lookup misses the cache. Looking keys up one at a time, between the cleaning of one row and the next, pays
//! for each miss in full. Here keys are looked up a batch at a time: [`Keys::warm`] first touches
//! every slot the batch will probe, in a tight loop whose loads the processor overlaps, and the
//! lookups that follow find their slots in the cache.
//!
//! Keys are hashes already (XXH3-128 of the key's canonical bytes), so their low bits index the
//! table as they are; collisions of the index are resolved by linear probing, on a 32-bit tag of
//! the key in the slot and then on the whole 128-bit key.

use std::hint::black_box;

/// A slot: the key's tag (the upper 32 bits of its low half, in place) and below it the
/// position + 1 of the row that holds the key (0: an empty slot). The key itself and the row's
/// content hash are kept by position in [`Keys::rows`]: a probe compares tags, and reads the row
/// only when the tags agree (the key is there, or one time in four billion). Eight bytes a slot
/// make the table of ten million keys 128 MB, a quarter of what whole keys in the slots took.
type Slot = u64;

const TAG: u64 = 0xFFFF_FFFF_0000_0000;

/// The most rows a delivery may send on: a position + 1 fits in a slot's low 32 bits.
pub const MAX_ROWS: u64 = u32::MAX as u64 - 1;

/// Keys are looked up this many at a time: their slots' cache lines fit in the L2 cache, and
/// their pages in the TLB (about 1500 entries), so the lookups after the warming find both.
pub const WARM: usize = 1024;

pub struct Keys {
    slots: Slots,
    mask: usize,
    len: usize,
    /// By position: the key (low, high 64 bits) of the row sent on there, and its content hash.
    rows: Vec<[u64; 3]>,
}

/// The slots, all empty (zero) at first.
struct Slots(Vec<Slot>);

impl Slots {
    /// `n` empty slots.
    fn new(n: usize) -> Slots {
        let mut v = vec![0; n];
        // A big zeroed allocation is laid out by the system lazily: a read first maps the
        // shared zero page, and the write after it faults again and flushes the other cores'
        // TLBs. Writing once per page now faults once. (Huge pages were tried: on this VM the
        // system's clearing of fresh 2 MB pages cost more than their fewer TLB misses saved.)
        // (Through `black_box`: the compiler knows the memory is zero and would drop the write.)
        for s in v.iter_mut().step_by(4096 / std::mem::size_of::<Slot>()) {
            *black_box(s) = 0;
        }
        Slots(v)
    }

    fn get(&self) -> &[Slot] {
        &self.0
    }

    fn get_mut(&mut self) -> &mut [Slot] {
        &mut self.0
    }
}

/// What inserting a key found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// The key was not there.
    New,
    /// The key was there with the same content: the table is unchanged.
    Same,
    /// The key was there with other content, at this position: the new row replaces it.
    Replaced(u64),
}

impl Default for Keys {
    fn default() -> Self {
        Keys::with_capacity(0)
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("len", &self.len).finish()
    }
}

fn tag(key: u128) -> u64 {
    key as u64 & TAG
}

/// The position a non-empty slot points at.
fn position(s: Slot) -> usize {
    (s & !TAG) as usize - 1
}

impl Keys {
    /// A table for about `n` keys without growing (it grows when 3/4 full).
    pub fn with_capacity(n: usize) -> Keys {
        let slots = (n.saturating_mul(5) / 4).max(1024).next_power_of_two();
        Keys {
            slots: Slots::new(slots),
            mask: slots - 1,
            len: 0,
            rows: Vec::with_capacity(n),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn home(&self, key: u128) -> usize {
        key as u64 as usize & self.mask
    }

    /// Touch the home slot of each key, so the lookups that follow hit the cache.
    pub fn warm(&self, keys: impl IntoIterator<Item = u128>) {
        let slots = self.slots.get();
        let mut any = 0u64;
        for k in keys {
            any ^= slots[self.home(k)];
        }
        black_box(any);
    }

    /// The slot holding `key`, or the empty slot where it belongs.
    fn find(&self, key: u128) -> usize {
        let (lo, hi, tag) = (key as u64, (key >> 64) as u64, tag(key));
        let mut i = self.home(key);
        let slots = self.slots.get();
        loop {
            let s = slots[i];
            if s == 0 {
                return i;
            }
            if s & TAG == tag {
                let r = &self.rows[position(s)];
                if r[0] == lo && r[1] == hi {
                    return i;
                }
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The content hash and position of the row holding `key`.
    pub fn get(&self, key: u128) -> Option<(i64, u64)> {
        let s = self.slots.get()[self.find(key)];
        (s != 0).then(|| {
            let p = position(s);
            (self.rows[p][2] as i64, p as u64)
        })
    }

    /// Keep the key and content hash of the row at `pos`.
    fn put_row(&mut self, pos: u64, key: u128, hash: i64) -> Slot {
        let p = pos as usize;
        if p >= self.rows.len() {
            self.rows.resize(p + 1, [0; 3]);
        }
        self.rows[p] = [key as u64, (key >> 64) as u64, hash as u64];
        tag(key) | (pos + 1)
    }

    /// Record that the row at `pos` holds `key` with content `hash`. A row with the same key and
    /// the same content keeps its place; one with other content is replaced. Each position is
    /// given once, and is at most [`MAX_ROWS`].
    pub fn insert(&mut self, key: u128, hash: i64, pos: u64) -> Seen {
        assert!(pos < MAX_ROWS, "a delivery's rows are limited to MAX_ROWS");
        let i = self.find(key);
        let s = self.slots.get()[i];
        if s != 0 {
            let earlier = position(s);
            if self.rows[earlier][2] == hash as u64 {
                return Seen::Same;
            }
            let slot = self.put_row(pos, key, hash);
            self.slots.get_mut()[i] = slot;
            return Seen::Replaced(earlier as u64);
        }
        let slot = self.put_row(pos, key, hash);
        self.slots.get_mut()[i] = slot;
        self.len += 1;
        if self.len * 4 > (self.mask + 1) * 3 {
            self.grow();
        }
        Seen::New
    }

    fn grow(&mut self) {
        let old = std::mem::replace(&mut self.slots, Slots::new((self.mask + 1) * 2));
        self.mask = self.mask * 2 + 1;
        for &s in old.get().iter().filter(|&&s| s != 0) {
            let r = self.rows[position(s)];
            let key = u128::from(r[0]) | (u128::from(r[1]) << 64);
            let i = self.find(key);
            self.slots.get_mut()[i] = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// The table behaves as a map from key to the last differing row, through growth and
        /// keys that share their index bits.
        #[test]
        fn behaves_as_a_map(ops in proptest::collection::vec((0u8..40, 0u128..4, 0i64..3), 0..3000)) {
            let mut keys = Keys::with_capacity(0);
            let mut model: HashMap<u128, (i64, u64)> = HashMap::new();
            for (pos, (k, high, hash)) in ops.into_iter().enumerate() {
                // Keys alike in their low 64 bits collide on purpose.
                let key = u128::from(k) | (high << 64);
                let pos = pos as u64;
                let want = match model.get(&key).copied() {
                    None => { model.insert(key, (hash, pos)); Seen::New }
                    Some((h, _)) if h == hash => Seen::Same,
                    Some((_, at)) => { model.insert(key, (hash, pos)); Seen::Replaced(at) }
                };
                prop_assert_eq!(keys.insert(key, hash, pos), want);
            }
            prop_assert_eq!(keys.len(), model.len());
            for (k, v) in &model {
                prop_assert_eq!(keys.get(*k), Some(*v));
            }
            prop_assert_eq!(keys.get(u128::MAX), None);
        }
    }

    #[test]
    fn grows_past_its_capacity() {
        let mut keys = Keys::with_capacity(10);
        for i in 0..100_000u64 {
            let key = u128::from(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)) << 3;
            assert_eq!(keys.insert(key, i as i64, i), Seen::New);
        }
        assert_eq!(keys.len(), 100_000);
        for i in (0..100_000u64).step_by(997) {
            let key = u128::from(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)) << 3;
            assert_eq!(keys.get(key), Some((i as i64, i)));
        }
    }
}
