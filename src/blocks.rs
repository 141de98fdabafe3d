//! Memory for futures: 64 KiB blocks of 64-byte slots, handed out in order by
//! each executor's `Arena` and given back whole once every future in a block
//! has been freed.
//!
//! A burst of submits is where an executor's time goes, and `malloc` and
//! `free` were a fifth of it; a slot costs a cursor bump under the arena's
//! lock instead, and a free one atomic decrement on its block. A freed block
//! is kept for the next burst (up to `CACHE_BYTES` in all), so that burst
//! writes to memory that is mapped already: on the VMs hilo is measured on a
//! page fault costs about 2 us, 30 ns per future, more than the hand-off.
//!
//! A block is counted: `live` is the number of its slots not yet given back
//! plus one while an arena hands slots out of it. Slots never handed out
//! (an arena dropped before its block filled) are given back by the arena.
//! A future that lives long keeps its whole block (64 KiB) allocated.

use std::alloc::{self, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::futex::{ForkLock, Mutex};

/// The size of a block, and its alignment.
pub(crate) const BLOCK_BYTES: usize = 64 * 1024;
/// The size of a slot: one cache line, so that two futures never share one.
pub(crate) const SLOT_BYTES: usize = 64;
/// Slots per block; the first slot's room holds the header.
const SLOTS: u32 = (BLOCK_BYTES / SLOT_BYTES) as u32 - 1;
/// How many bytes of freed blocks are kept for reuse, process-wide.
pub(crate) const CACHE_BYTES: usize = 16 << 20;

/// A block's first slot.
#[repr(C, align(64))]
pub struct Header {
    live: AtomicU32,
}

fn layout() -> Layout {
    // A power of two, and a multiple of the alignment.
    Layout::from_size_align(BLOCK_BYTES, BLOCK_BYTES).expect("a valid block layout")
}

/// Blocks kept for reuse.
struct Cache {
    blocks: Vec<NonNull<Header>>,
}

// SAFETY: the cached blocks belong to the cache alone; nothing else points
// into them.
unsafe impl Send for Cache {}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: Mutex<Cache> = Mutex::new(Cache { blocks: Vec::new() });
    &CACHE
}

/// The cache's lock, held across `fork()` (src/fork.rs): a leaf, taken
/// only with an arena's lock held or none.
pub fn fork_lock() -> &'static dyn ForkLock {
    cache()
}

/// A block from the cache, or a new one; None when memory is short.
fn new_block() -> Option<NonNull<Header>> {
    let block = cache().lock().blocks.pop().or_else(|| {
        // SAFETY: the layout's size is not zero.
        NonNull::new(unsafe { alloc::alloc(layout()) }.cast::<Header>())
    })?;
    // SAFETY: a block of BLOCK_BYTES, ours alone, aligned for a Header.
    unsafe {
        block.as_ptr().write(Header {
            live: AtomicU32::new(SLOTS + 1),
        })
    };
    Some(block)
}

/// Gives `count` of `block`'s references back; the last one recycles it.
///
/// # Safety
/// `block` is a live block and the caller holds `count` of its references.
unsafe fn put(block: NonNull<Header>, count: u32) {
    // SAFETY: the block is live while the caller holds references to it.
    let header = unsafe { block.as_ref() };
    if header.live.fetch_sub(count, Ordering::Release) != count {
        return;
    }
    // Every slot's user is done: their writes happen before the reuse (a
    // load rather than a fence, which ThreadSanitizer does not see).
    header.live.load(Ordering::Acquire);
    let mut cache = cache().lock();
    if cache.blocks.len() * BLOCK_BYTES < CACHE_BYTES {
        cache.blocks.push(block);
        return;
    }
    drop(cache);
    // SAFETY: allocated by `new_block` with this layout, and no reference
    // to it is left.
    unsafe { alloc::dealloc(block.as_ptr().cast(), layout()) };
}

/// Gives back the slot at `slot`, which `Arena::take` handed out; the last
/// slot of a block given back recycles the block.
///
/// # Safety
/// `slot` came from `Arena::take`, its contents are dropped, and it is given
/// back once.
pub unsafe fn give_back(slot: *mut u8) {
    let block = (slot as usize & !(BLOCK_BYTES - 1)) as *mut Header;
    // SAFETY: a slot lies in its block, which its reference keeps live.
    unsafe { put(NonNull::new_unchecked(block), 1) };
}

/// Where an executor takes its slots from. Not thread-safe: the executor
/// keeps it under a lock.
pub struct Arena {
    block: Option<NonNull<Header>>,
    /// Slots handed out of `block`.
    used: u32,
}

// SAFETY: the arena's block reference is a count, usable from any thread.
unsafe impl Send for Arena {}

impl Arena {
    pub const fn new() -> Arena {
        Arena {
            block: None,
            used: 0,
        }
    }

    /// A free slot of `SLOT_BYTES`, aligned to them; None when memory is
    /// short.
    pub fn take(&mut self) -> Option<NonNull<u8>> {
        let block = match self.block {
            Some(block) if self.used < SLOTS => block,
            _ => {
                let block = new_block()?;
                self.retire();
                self.block = Some(block);
                block
            }
        };
        self.used += 1;
        // SAFETY: slot `used` (1..=SLOTS) lies inside the block.
        let slot = unsafe {
            block
                .as_ptr()
                .cast::<u8>()
                .add(self.used as usize * SLOT_BYTES)
        };
        NonNull::new(slot)
    }

    /// Gives up the arena's hold on its block, with the slots never handed
    /// out.
    fn retire(&mut self) {
        if let Some(block) = self.block.take() {
            // SAFETY: the arena holds one reference, and one for each slot
            // it did not hand out.
            unsafe { put(block, 1 + SLOTS - self.used) };
        }
        self.used = 0;
    }

    /// In a forked child: a thread that is gone may have been halfway
    /// through `take`; the block is forgotten, never freed.
    pub fn forget(&mut self) {
        self.block = None;
        self.used = 0;
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        self.retire();
    }
}

/// The count of the block that `slot` lies in (tests).
#[cfg(test)]
fn live(slot: *mut u8) -> u32 {
    let block = (slot as usize & !(BLOCK_BYTES - 1)) as *const Header;
    // SAFETY: the caller holds a slot of the block, which keeps it live.
    unsafe { (*block).live.load(Ordering::Acquire) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_distinct_aligned_and_counted_by_their_block() {
        let mut arena = Arena::new();
        let slots: Vec<*mut u8> = (0..SLOTS + 5)
            .map(|_| arena.take().expect("memory").as_ptr())
            .collect();
        let mut sorted = slots.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), slots.len());
        for &slot in &slots {
            assert_eq!(slot as usize % SLOT_BYTES, 0);
            assert_ne!(slot as usize % BLOCK_BYTES, 0, "the header's room");
        }
        let (first, second) = slots.split_at(SLOTS as usize);
        // The first block is full and retired: only its slots hold it.
        assert_eq!(live(first[0]), SLOTS);
        // The second is the arena's: its hold, and a reference per slot.
        assert_eq!(live(second[0]), SLOTS + 1);
        for &slot in &first[1..] {
            // SAFETY: handed out above, given back once.
            unsafe { give_back(slot) };
        }
        assert_eq!(live(first[0]), 1);
        // SAFETY: as above; the block is recycled now.
        unsafe { give_back(first[0]) };
        drop(arena);
        // The arena gave back its hold and the slots it never handed out.
        assert_eq!(live(second[0]), second.len() as u32);
        for &slot in second {
            // SAFETY: as above.
            unsafe { give_back(slot) };
        }
    }
}
