//! The preview1 error numbers this host returns (`wasi_snapshot_preview1`'s
//! `errno`), and the layout constants of the structures it writes.

/// A preview1 `errno` value (`0` is success).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Errno(pub(crate) u16);

impl Errno {
    pub(crate) const SUCCESS: Errno = Errno(0);
    pub(crate) const ACCES: Errno = Errno(2);
    pub(crate) const BADF: Errno = Errno(8);
    pub(crate) const EXIST: Errno = Errno(20);
    pub(crate) const FAULT: Errno = Errno(21);
    pub(crate) const FBIG: Errno = Errno(22);
    pub(crate) const INVAL: Errno = Errno(28);
    pub(crate) const ISDIR: Errno = Errno(31);
    pub(crate) const MFILE: Errno = Errno(33);
    pub(crate) const NAMETOOLONG: Errno = Errno(37);
    pub(crate) const NOENT: Errno = Errno(44);
    pub(crate) const NOSPC: Errno = Errno(51);
    pub(crate) const NOTDIR: Errno = Errno(54);
    pub(crate) const NOTEMPTY: Errno = Errno(55);
    pub(crate) const NOTSUP: Errno = Errno(58);
    pub(crate) const OVERFLOW: Errno = Errno(61);
    pub(crate) const ROFS: Errno = Errno(69);
    pub(crate) const SPIPE: Errno = Errno(70);
}

/// `filetype` values.
pub(crate) mod filetype {
    pub(crate) const CHARACTER_DEVICE: u8 = 2;
    pub(crate) const DIRECTORY: u8 = 3;
    pub(crate) const REGULAR_FILE: u8 = 4;
}

/// `rights` bits used here.
pub(crate) mod rights {
    pub(crate) const FD_READ: u64 = 1 << 1;
    pub(crate) const FD_SEEK: u64 = 1 << 2;
    pub(crate) const FD_TELL: u64 = 1 << 5;
    pub(crate) const FD_WRITE: u64 = 1 << 6;
    /// Every right preview1 defines (bits 0..=29): we check access ourselves.
    pub(crate) const ALL: u64 = (1 << 30) - 1;
}

/// `oflags` bits.
pub(crate) mod oflags {
    pub(crate) const CREAT: u16 = 1;
    pub(crate) const DIRECTORY: u16 = 2;
    pub(crate) const EXCL: u16 = 4;
    pub(crate) const TRUNC: u16 = 8;
}

/// `fdflags` bits.
pub(crate) mod fdflags {
    pub(crate) const APPEND: u16 = 1;
}
