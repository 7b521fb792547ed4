//! A file mapped read-only into memory, handed out as [`Bytes`] without a
//! copy: how a spilled or cached object reaches its consumer.
//!
//! The pages are the file's page cache: the kernel reads them in as the
//! consumer touches them and may drop them again under memory pressure, so an
//! object on disk costs the process no anonymous memory. The mapping (and
//! with it whatever else the owner carries, such as a lease on the spill
//! budget) lives until the last clone of the bytes is dropped.
//!
//! Only files this crate wrote and never changes afterwards are mapped (spill
//! files without a name, cache files replaced by rename and never rewritten),
//! so the mapped contents cannot change or shrink under a reader.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;

/// The live mappings, start address to length: what
/// [`release_resident`] may act on.
static LIVE: Mutex<BTreeMap<usize, usize>> = Mutex::new(BTreeMap::new());
/// How many there are, so that callers skip the lock when there are none.
static LIVE_COUNT: AtomicUsize = AtomicUsize::new(0);
/// Objects smaller than this are not worth a lookup.
const RELEASE_MIN: usize = 1 << 20;

fn live() -> MutexGuard<'static, BTreeMap<usize, usize>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Lets go of the process's resident pages of `data` if it is (part of) a
/// fetched object mapped from a file (spilled or cached), after a reader is
/// done with it for now: it stays readable, its pages come back from the
/// file on the next read. Bytes held in memory are left alone. The engine
/// calls this once a sandbox has consumed an input, so that objects on disk
/// do not accumulate in the process's resident memory while their
/// invocation runs (`docs/io.md`, "Budgets").
pub fn release_resident(data: &[u8]) {
    if data.len() < RELEASE_MIN || LIVE_COUNT.load(Ordering::Acquire) == 0 {
        return;
    }
    let at = data.as_ptr() as usize;
    let page = page_size();
    let inside = {
        let live = live();
        live.range(..=at).next_back().is_some_and(|(&start, &len)| {
            at.saturating_add(data.len()) <= start.saturating_add(len)
        })
    };
    if !inside {
        return;
    }
    // The mapping starts on a page boundary, so the page holding `at` is in it.
    let start = at - at % page;
    let len = at + data.len() - start;
    // SAFETY: the range lies within a live read-only shared file mapping
    // (checked above; `data` borrows it, so it cannot be unmapped meanwhile).
    // MADV_DONTNEED on such a mapping only drops page table entries: later
    // reads fault the same contents in again from the file.
    unsafe {
        libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED);
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|&s| s > 0)
        .unwrap_or(4096)
}

/// A read-only shared mapping of a whole file, unmapped on drop.
struct Mapping {
    ptr: *const u8,
    len: usize,
}

// SAFETY: the mapping is read-only and never changes while mapped (see the
// module doc), so sharing the pointer between threads is like sharing `&[u8]`.
unsafe impl Send for Mapping {}
// SAFETY: as for `Send`: only shared reads ever happen through it.
unsafe impl Sync for Mapping {}

impl AsRef<[u8]> for Mapping {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `ptr` is a live mapping of `len` readable bytes until drop.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        if live().remove(&(self.ptr as usize)).is_some() {
            LIVE_COUNT.fetch_sub(1, Ordering::AcqRel);
        }
        // SAFETY: `ptr`/`len` are exactly what mmap returned; no reference
        // into the mapping outlives its owner.
        unsafe {
            libc::munmap(self.ptr as *mut libc::c_void, self.len);
        }
    }
}

/// The mapping and what must live exactly as long as it.
struct Owner<T> {
    mapping: Mapping,
    _keep: T,
}

impl<T> AsRef<[u8]> for Owner<T> {
    fn as_ref(&self) -> &[u8] {
        self.mapping.as_ref()
    }
}

/// Maps the first `len` bytes of `file` read-only; `keep` is dropped with the
/// mapping (the descriptor itself may be closed at once).
pub(crate) fn map<T: Send + Sync + 'static>(
    file: &OwnedFd,
    len: u64,
    keep: T,
) -> io::Result<Bytes> {
    let len = usize::try_from(len)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file too large to map"))?;
    if len == 0 {
        return Ok(Bytes::new());
    }
    // SAFETY: a fresh mapping chosen by the kernel (null hint), of a valid
    // open descriptor; the result is checked before use.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    live().insert(ptr as usize, len);
    LIVE_COUNT.fetch_add(1, Ordering::AcqRel);
    let owner = Owner {
        mapping: Mapping {
            ptr: ptr as *const u8,
            len,
        },
        _keep: keep,
    };
    Ok(Bytes::from_owner(owner))
}
