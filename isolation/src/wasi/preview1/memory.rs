//! A checked view of guest memory: every pointer and length the guest passes goes
//! through [`Mem::range`] (`EFAULT` when out of bounds) before it is used.

use std::ops::Range;

use super::super::errno::Errno;

/// Longest path the host reads from a guest, in bytes (`ENAMETOOLONG` beyond).
pub(super) const MAX_PATH: u32 = 4096;

/// A checked view of guest memory.
pub(super) struct Mem<'a>(pub(super) &'a mut [u8]);

impl Mem<'_> {
    pub(super) fn range(&self, ptr: u32, len: u64) -> Result<Range<usize>, Errno> {
        crate::abi::range(self.0.len(), ptr, len).ok_or(Errno::FAULT)
    }

    pub(super) fn bytes(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let r = self.range(ptr, u64::from(len))?;
        Ok(&self.0[r])
    }

    pub(super) fn bytes_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let r = self.range(ptr, u64::from(len))?;
        Ok(&mut self.0[r])
    }

    pub(super) fn put(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), Errno> {
        let r = self.range(ptr, bytes.len() as u64)?;
        self.0[r].copy_from_slice(bytes);
        Ok(())
    }

    pub(super) fn u32(&self, ptr: u32) -> Result<u32, Errno> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.bytes(ptr, 4)?);
        Ok(u32::from_le_bytes(b))
    }

    pub(super) fn u64(&self, ptr: u32) -> Result<u64, Errno> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.bytes(ptr, 8)?);
        Ok(u64::from_le_bytes(b))
    }

    pub(super) fn put_u32(&mut self, ptr: u32, v: u32) -> Result<(), Errno> {
        self.put(ptr, &v.to_le_bytes())
    }

    pub(super) fn put_u64(&mut self, ptr: u32, v: u64) -> Result<(), Errno> {
        self.put(ptr, &v.to_le_bytes())
    }

    /// A path argument: at most [`MAX_PATH`] bytes of UTF-8.
    pub(super) fn path(&self, ptr: u32, len: u32) -> Result<String, Errno> {
        if len > MAX_PATH {
            return Err(Errno::NAMETOOLONG);
        }
        let bytes = self.bytes(ptr, len)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| Errno::INVAL)
    }

    /// Checks an iovec array of `count` entries and returns its byte range.
    pub(super) fn iovecs(&self, ptr: u32, count: u32) -> Result<Range<usize>, Errno> {
        let table = self.range(ptr, u64::from(count) * 8)?;
        for i in 0..count {
            let at = ptr + i * 8;
            self.range(self.u32(at)?, u64::from(self.u32(at + 4)?))?;
        }
        Ok(table)
    }

    /// The `i`th buffer of an iovec array already checked by [`Mem::iovecs`].
    pub(super) fn iovec(&self, ptr: u32, i: u32) -> Result<Range<usize>, Errno> {
        let at = ptr + i * 8;
        self.range(self.u32(at)?, u64::from(self.u32(at + 4)?))
    }
}
