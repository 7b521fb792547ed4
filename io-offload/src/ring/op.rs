//! Operation descriptions and their translation into submission entries.
//!
//! An [`OpKind`] owns everything the kernel reads or writes during the
//! operation. All pointers handed to the kernel point into heap allocations
//! (`Vec`, `Bytes`, `CString`, `Box`) so they stay valid when the owning slot
//! moves inside the driver's slab.

use std::ffi::CString;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::time::Duration;

use bytes::Bytes;
use io_uring::{opcode, squeue, types};

/// One io_uring operation and the memory it uses.
#[derive(Debug)]
pub(crate) enum OpKind {
    /// Read from `offset` into the spare capacity of `buf`; on success `buf`'s
    /// length grows by the number of bytes read.
    Read {
        fd: RawFd,
        buf: Vec<u8>,
        offset: u64,
    },
    /// Write `buf` at `offset`.
    Write { fd: RawFd, buf: Bytes, offset: u64 },
    /// Receive into the spare capacity of `buf` (grows like `Read`).
    Recv { fd: RawFd, buf: Vec<u8> },
    /// Send `buf` (with `MSG_NOSIGNAL`: a closed peer is an error, not a signal).
    Send { fd: RawFd, buf: Bytes },
    /// Connect a socket.
    Connect { fd: RawFd, addr: Box<SockAddr> },
    /// `openat2(dirfd, path, how)`; the result is the new descriptor.
    /// `O_CLOEXEC` is always added to the flags.
    Open {
        dirfd: RawFd,
        path: CString,
        how: Box<types::OpenHow>,
    },
    /// `statx` of an open descriptor (size only).
    Statx { fd: RawFd, buf: Box<libc::statx> },
    /// `fsync`.
    Fsync { fd: RawFd },
    /// `renameat(dirfd, from, dirfd, to)`.
    Rename {
        dirfd: RawFd,
        from: CString,
        to: CString,
    },
    /// `mkdirat(dirfd, path, mode)`.
    Mkdir {
        dirfd: RawFd,
        path: CString,
        mode: u32,
    },
    /// `unlinkat(dirfd, path, 0)`.
    Unlink { dirfd: RawFd, path: CString },
    /// A plain timer; completes with `-ETIME` when it fires.
    Sleep { time: Box<types::Timespec> },
    /// Read the wake-up eventfd's counter (internal to the driver).
    WakeRead { fd: RawFd, buf: Box<[u8; 8]> },
    /// Cancel every operation in flight (used at shutdown).
    CancelAll,
}

/// A socket address in the form `connect(2)` takes.
#[derive(Debug)]
pub(crate) struct SockAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

impl SockAddr {
    pub(crate) fn new(addr: &SocketAddr) -> Box<SockAddr> {
        // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
        let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let len = match addr {
            SocketAddr::V4(v4) => {
                let sin = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: v4.port().to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from_ne_bytes(v4.ip().octets()),
                    },
                    sin_zero: [0; 8],
                };
                // SAFETY: sockaddr_storage is large and aligned enough for any
                // sockaddr type, sockaddr_in included.
                unsafe {
                    std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin)
                };
                std::mem::size_of::<libc::sockaddr_in>()
            }
            SocketAddr::V6(v6) => {
                let sin6 = libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: v6.port().to_be(),
                    sin6_flowinfo: v6.flowinfo(),
                    sin6_addr: libc::in6_addr {
                        s6_addr: v6.ip().octets(),
                    },
                    sin6_scope_id: v6.scope_id(),
                };
                // SAFETY: as above, for sockaddr_in6.
                unsafe {
                    std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6)
                };
                std::mem::size_of::<libc::sockaddr_in6>()
            }
        };
        Box::new(SockAddr {
            storage,
            len: len as libc::socklen_t,
        })
    }
}

/// Largest length one read or write asks for (the kernel caps single
/// transfers a little below 2 GiB anyway).
const MAX_CHUNK: usize = 1 << 30;

impl OpKind {
    /// Builds the submission entry. The pointers it contains stay valid as long
    /// as `self` is alive, which the driver guarantees until the completion.
    pub(crate) fn entry(&mut self) -> squeue::Entry {
        match self {
            OpKind::Read { fd, buf, offset } => {
                let spare = buf.spare_capacity_mut();
                let len = spare.len().min(MAX_CHUNK) as u32;
                opcode::Read::new(types::Fd(*fd), spare.as_mut_ptr().cast(), len)
                    .offset(*offset)
                    .build()
            }
            OpKind::Write { fd, buf, offset } => {
                let len = buf.len().min(MAX_CHUNK) as u32;
                opcode::Write::new(types::Fd(*fd), buf.as_ptr(), len)
                    .offset(*offset)
                    .build()
            }
            OpKind::Recv { fd, buf } => {
                let spare = buf.spare_capacity_mut();
                let len = spare.len().min(MAX_CHUNK) as u32;
                opcode::Recv::new(types::Fd(*fd), spare.as_mut_ptr().cast(), len).build()
            }
            OpKind::Send { fd, buf } => {
                let len = buf.len().min(MAX_CHUNK) as u32;
                opcode::Send::new(types::Fd(*fd), buf.as_ptr(), len)
                    .flags(libc::MSG_NOSIGNAL)
                    .build()
            }
            OpKind::Connect { fd, addr } => opcode::Connect::new(
                types::Fd(*fd),
                (&addr.storage as *const libc::sockaddr_storage).cast(),
                addr.len,
            )
            .build(),
            OpKind::Open { dirfd, path, how } => {
                opcode::OpenAt2::new(types::Fd(*dirfd), path.as_ptr(), &**how).build()
            }
            OpKind::Statx { fd, buf } => opcode::Statx::new(
                types::Fd(*fd),
                c"".as_ptr(),
                (&mut **buf as *mut libc::statx).cast::<types::statx>(),
            )
            .flags(libc::AT_EMPTY_PATH)
            .mask(libc::STATX_SIZE | libc::STATX_TYPE)
            .build(),
            OpKind::Fsync { fd } => opcode::Fsync::new(types::Fd(*fd)).build(),
            OpKind::Rename { dirfd, from, to } => opcode::RenameAt::new(
                types::Fd(*dirfd),
                from.as_ptr(),
                types::Fd(*dirfd),
                to.as_ptr(),
            )
            .build(),
            OpKind::Mkdir { dirfd, path, mode } => {
                opcode::MkDirAt::new(types::Fd(*dirfd), path.as_ptr())
                    .mode(*mode)
                    .build()
            }
            OpKind::Unlink { dirfd, path } => {
                opcode::UnlinkAt::new(types::Fd(*dirfd), path.as_ptr()).build()
            }
            OpKind::Sleep { time } => {
                opcode::Timeout::new(&**time as *const types::Timespec).build()
            }
            OpKind::WakeRead { fd, buf } => {
                opcode::Read::new(types::Fd(*fd), buf.as_mut_ptr(), 8).build()
            }
            OpKind::CancelAll => opcode::AsyncCancel2::new(types::CancelBuilder::any()).build(),
        }
    }

    /// Records a successful completion of `res` bytes in the buffer it landed in.
    pub(crate) fn complete(&mut self, res: i32) {
        if res <= 0 {
            return;
        }
        if let OpKind::Read { buf, .. } | OpKind::Recv { buf, .. } = self {
            let n = (res as usize).min(buf.capacity() - buf.len());
            // SAFETY: the kernel reported writing `n` bytes into the spare
            // capacity that `entry` described, so they are initialised.
            unsafe { buf.set_len(buf.len() + n) };
        }
    }

    /// The opcodes the runtime needs, for the start-up probe.
    pub(crate) fn required_opcodes() -> [(u8, &'static str); 14] {
        [
            (opcode::Read::CODE, "read"),
            (opcode::Write::CODE, "write"),
            (opcode::Recv::CODE, "recv"),
            (opcode::Send::CODE, "send"),
            (opcode::Connect::CODE, "connect"),
            // openat2 (Linux 5.6) is what confines paths beneath a root; the
            // runtime needs a far newer kernel anyway, so there is no fallback.
            (opcode::OpenAt2::CODE, "openat2"),
            (opcode::Statx::CODE, "statx"),
            (opcode::Fsync::CODE, "fsync"),
            (opcode::RenameAt::CODE, "renameat"),
            (opcode::MkDirAt::CODE, "mkdirat"),
            (opcode::UnlinkAt::CODE, "unlinkat"),
            (opcode::Timeout::CODE, "timeout"),
            (opcode::LinkTimeout::CODE, "link_timeout"),
            (opcode::AsyncCancel::CODE, "async_cancel"),
        ]
    }
}

/// A zeroed buffer for [`OpKind::Statx`].
pub(crate) fn statx_buf() -> Box<libc::statx> {
    // SAFETY: statx is plain old data; all-zero is a valid value.
    Box::new(unsafe { std::mem::zeroed() })
}

/// Builds the timespec a linked timeout or sleep waits for.
pub(crate) fn timespec(d: Duration) -> Box<types::Timespec> {
    Box::new(types::Timespec::from(d))
}
