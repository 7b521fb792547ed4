//! A bump allocator over the module's static arena, then fresh pages from
//! `memory.grow`.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;

const PAGE: usize = 65536;
/// Size of the static arena that serves the first allocations of a call.
const STATIC_ARENA_LEN: usize = 32 * 1024;

/// The allocation state, shared by every [`BumpAllocator`] and by [`alloc_slice`].
struct Arena {
    next: usize,
    end: usize,
}

/// Wraps the state so it can live in a `static`.
struct Shared<T>(UnsafeCell<T>);

// SAFETY: wasm32 guests are single-threaded; there is no concurrent access.
unsafe impl<T> Sync for Shared<T> {}

static ARENA: Shared<Arena> = Shared(UnsafeCell::new(Arena { next: 0, end: 0 }));

/// The first allocations come from here: part of the module's own zeroed data
/// (`.bss`, inside its initial memory), so below the host's input region.
/// Its bytes are only reached through the raw pointer `bump` takes, which the
/// dead-code lint does not count as a read.
#[repr(align(16))]
#[allow(dead_code)]
struct StaticArena([u8; STATIC_ARENA_LEN]);
static STATIC: Shared<StaticArena> = Shared(UnsafeCell::new(StaticArena([0; STATIC_ARENA_LEN])));

/// A bump allocator: allocations come first from a 32 KiB static arena in the
/// module's own memory, then from pages obtained with `memory.grow`, which lie
/// above the host's input region; so they never overlap it. Nothing is freed:
/// each call runs in a fresh instance, so the memory goes away with it.
///
/// Installed as the `#[global_allocator]` by the default `global-allocator`
/// feature. Every `BumpAllocator` and [`alloc_bytes`]/[`alloc_slice`] share one arena.
pub struct BumpAllocator {
    _private: (),
}

impl BumpAllocator {
    /// A handle to the (single, shared) arena.
    pub const fn new() -> Self {
        BumpAllocator { _private: () }
    }
}

impl Default for BumpAllocator {
    fn default() -> Self {
        Self::new()
    }
}

fn align_up(addr: usize, align: usize) -> Option<usize> {
    Some(addr.checked_add(align - 1)? & !(align - 1))
}

/// Returns `size` bytes aligned to `align` (a power of two), or null if memory
/// cannot grow.
fn bump(size: usize, align: usize) -> *mut u8 {
    // SAFETY: single-threaded (see `Shared`) and never re-entered.
    let arena = unsafe { &mut *ARENA.0.get() };
    if arena.end == 0 {
        // First use: the static arena.
        let base = STATIC.0.get() as usize;
        arena.next = base;
        arena.end = base + STATIC_ARENA_LEN;
    }
    let start = match align_up(arena.next, align) {
        Some(v) => v,
        None => return core::ptr::null_mut(),
    };
    let end = match start.checked_add(size) {
        Some(v) => v,
        None => return core::ptr::null_mut(),
    };
    if end <= arena.end {
        arena.next = end;
        return start as *mut u8;
    }
    // Grow by enough pages for this request (at least 4 to amortise the calls).
    let want = size.saturating_add(align) / PAGE + 1;
    let pages = if want < 4 { 4 } else { want };
    let old = grow(pages);
    if old == usize::MAX {
        return core::ptr::null_mut();
    }
    let fresh = old * PAGE;
    let fresh_end = fresh + pages * PAGE;
    // Continue the current chunk if the new pages are contiguous with it.
    let base = if fresh == arena.end {
        start
    } else {
        (fresh + align - 1) & !(align - 1)
    };
    arena.next = base + size;
    arena.end = fresh_end;
    base as *mut u8
}

#[cfg(target_arch = "wasm32")]
fn grow(pages: usize) -> usize {
    core::arch::wasm32::memory_grow(0, pages)
}

#[cfg(not(target_arch = "wasm32"))]
fn grow(_pages: usize) -> usize {
    usize::MAX
}

// SAFETY: `bump` returns distinct, suitably aligned blocks that are never reused.
unsafe impl GlobalAlloc for BumpAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump(layout.size(), layout.align())
    }

    /// No writes: every block `bump` returns is still zero (see [`alloc_zeroed`]).
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump(layout.size(), layout.align())
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

/// `len` zeroed bytes from the arena that live until the call ends.
///
/// Traps if memory cannot grow (the host reports the function's memory limit).
pub fn alloc_bytes(len: usize) -> &'static mut [u8] {
    alloc_zeroed(len)
}

mod sealed {
    pub trait Sealed {}
}

/// Element types for [`alloc_zeroed`]: plain numbers, for which all-zero bytes
/// are a value and which have no padding. Sealed: a type with references or
/// niches would not be valid as zeroes.
pub trait Zeroable: Copy + sealed::Sealed {}

macro_rules! zeroable {
    ($($t:ty),*) => {
        $(
            impl sealed::Sealed for $t {}
            impl Zeroable for $t {}
        )*
    };
}

zeroable!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);

/// A fresh block for `len` `T`s from the arena; traps if its size overflows or
/// memory cannot grow.
fn bump_array<T>(len: usize) -> *mut T {
    let size = match core::mem::size_of::<T>().checked_mul(len) {
        Some(s) => s,
        None => trap(),
    };
    let ptr = bump(size, core::mem::align_of::<T>()) as *mut T;
    if ptr.is_null() {
        trap();
    }
    ptr
}

/// `len` zeroed `T`s from the arena, living until the call ends, without writing
/// them: the arena hands out each byte once, and every byte starts as zero (the
/// static arena is the module's zeroed data, and WebAssembly defines the pages
/// `memory.grow` adds as zeroed). Zeroing a large buffer would cost a pass over
/// it, and afterwards the host's reset of every page it dirtied.
///
/// Traps if memory cannot grow (the host reports the function's memory limit).
pub fn alloc_zeroed<T: Zeroable>(len: usize) -> &'static mut [T] {
    let ptr = bump_array::<T>(len);
    // SAFETY: `ptr` is a fresh, aligned block of `len` `T`s that nothing else
    // refers to, and its bytes are zero (see above), which is a `T` for every
    // `Zeroable` type.
    unsafe { core::slice::from_raw_parts_mut(ptr, len) }
}

/// `len` copies of `init` from the arena, living until the call ends.
///
/// Traps if memory cannot grow (the host reports the function's memory limit).
pub fn alloc_slice<T: Copy>(len: usize, init: T) -> &'static mut [T] {
    let ptr = bump_array::<T>(len);
    // SAFETY: `ptr` is a fresh, aligned block of `len` `T`s that nothing else refers
    // to (the arena never hands out the same bytes twice); every element is written
    // before the slice is created.
    unsafe {
        for i in 0..len {
            ptr.add(i).write(init);
        }
        core::slice::from_raw_parts_mut(ptr, len)
    }
}

/// Stops the guest with a trap.
pub(crate) fn trap() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    panic!("out of guest memory")
}
