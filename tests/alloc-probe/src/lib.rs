//! A global allocator for tests that looks into every block before it is freed.
//!
//! Register a needle (the bytes of a planted secret) with [`arm`]; from then on, each block
//! the program frees is searched for it before it goes back to the system allocator, and
//! [`Report`] says how many freed blocks were searched and how many still held the needle.
//! That is how a test proves that dropping a `#[sensitive]` value leaves no copy of the secret
//! in freed heap memory, and, with a control (a plain `String`), that the probe would notice.
//!
//! **Why `unsafe` here and nowhere else.** `GlobalAlloc` is an `unsafe trait` and reading a
//! block about to be freed needs a raw pointer. The workspace forbids `unsafe_code`; this crate
//! opts out of the workspace lints, keeps `unsafe_op_in_unsafe_fn` denied so every unsafe
//! operation sits in its own `unsafe` block with a `SAFETY` comment, and is only ever a
//! dev-dependency of the test crate.
//!
//! **Every block is initialised.** Blocks are handed out zeroed (`alloc_zeroed`) and `realloc`
//! moves into a fresh zeroed block, so when a block is freed all of its bytes are initialised
//! and reading them is defined. The freed old block of a `realloc` is searched too, so a
//! secret left behind by a growing `String` is caught.
//!
//! The probe allocates nothing itself, takes no lock and is safe to call from any thread.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, missing_debug_implementations)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

/// The longest needle [`arm`] accepts.
pub const MAX_NEEDLE: usize = 64;

static ARMED: AtomicBool = AtomicBool::new(false);
static NEEDLE_LEN: AtomicUsize = AtomicUsize::new(0);
static NEEDLE: [AtomicU8; MAX_NEEDLE] = [const { AtomicU8::new(0) }; MAX_NEEDLE];
static SEARCHED: AtomicUsize = AtomicUsize::new(0);
static FOUND: AtomicUsize = AtomicUsize::new(0);

/// The allocator: `System`, plus a search of every freed block while armed.
///
/// ```ignore
/// #[global_allocator]
/// static PROBE: alloc_probe::Probe = alloc_probe::Probe;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Probe;

/// What the probe saw between [`arm`] and [`disarm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Freed blocks the probe searched.
    pub searched: usize,
    /// Freed blocks that still contained the needle.
    pub found: usize,
}

/// Starts searching freed blocks for `needle` (2 to [`MAX_NEEDLE`] bytes) and resets the counts.
///
/// # Panics
/// If the needle is shorter than 2 or longer than [`MAX_NEEDLE`] bytes: a test bug.
pub fn arm(needle: &[u8]) {
    assert!(
        (2..=MAX_NEEDLE).contains(&needle.len()),
        "needle must be 2..={MAX_NEEDLE} bytes"
    );
    ARMED.store(false, Ordering::SeqCst);
    for (slot, b) in NEEDLE.iter().zip(needle) {
        slot.store(*b, Ordering::SeqCst);
    }
    NEEDLE_LEN.store(needle.len(), Ordering::SeqCst);
    SEARCHED.store(0, Ordering::SeqCst);
    FOUND.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
}

/// Stops searching and returns what was seen since [`arm`].
pub fn disarm() -> Report {
    ARMED.store(false, Ordering::SeqCst);
    Report {
        searched: SEARCHED.load(Ordering::SeqCst),
        found: FOUND.load(Ordering::SeqCst),
    }
}

/// Whether `block` contains the armed needle. No allocation, no lock.
fn holds_needle(block: &[u8]) -> bool {
    let len = NEEDLE_LEN.load(Ordering::SeqCst);
    if len == 0 || block.len() < len {
        return false;
    }
    let first = NEEDLE[0].load(Ordering::Relaxed);
    block.windows(len).any(|w| {
        w[0] == first
            && w.iter()
                .zip(NEEDLE.iter())
                .all(|(b, n)| *b == n.load(Ordering::Relaxed))
    })
}

fn inspect(ptr: *mut u8, size: usize) {
    if !ARMED.load(Ordering::SeqCst) || ptr.is_null() {
        return;
    }
    // SAFETY: `ptr` is a live block of `size` bytes from this allocator, not yet freed; all
    // its bytes are initialised because every block is handed out zeroed (see `alloc`).
    let block = unsafe { std::slice::from_raw_parts(ptr, size) };
    SEARCHED.fetch_add(1, Ordering::SeqCst);
    if holds_needle(block) {
        FOUND.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: every method forwards to `System` with the caller's layout; the only additions are
// zero-filling new blocks and reading a block before it is freed.
unsafe impl GlobalAlloc for Probe {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract (non-zero size).
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        inspect(ptr, layout.size());
        // SAFETY: `ptr` was allocated by `System` (through us) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A fresh zeroed block, so the new tail is initialised and the old block is searched
        // as it is freed, like any other.
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        // SAFETY: `new_size` is non-zero by `realloc`'s contract.
        let new = unsafe { System.alloc_zeroed(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live, distinct, and at least `min(old, new)` bytes long.
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            // SAFETY: `ptr` is live with `layout`, and is not used after this.
            unsafe { self.dealloc(ptr, layout) };
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_needle_anywhere_in_a_block() {
        arm(b"needle");
        assert!(holds_needle(b"xxneedlexx"));
        assert!(holds_needle(b"needle"));
        assert!(!holds_needle(b"needl"));
        assert!(!holds_needle(b"nee dle needl"));
        disarm();
    }
}
