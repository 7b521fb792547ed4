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

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use bytes::Bytes;

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
    let owner = Owner {
        mapping: Mapping {
            ptr: ptr as *const u8,
            len,
        },
        _keep: keep,
    };
    Ok(Bytes::from_owner(owner))
}
