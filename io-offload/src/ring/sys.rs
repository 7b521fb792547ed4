//! Thin wrappers over the few plain system calls the runtime makes outside the
//! ring: eventfd, socket creation, a liveness peek on pooled sockets.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Creates a close-on-exec eventfd. It stays blocking: io_uring answers `EAGAIN`
/// instead of waiting on descriptors opened non-blocking.
pub(crate) fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd takes no pointers; a non-negative result is a fresh fd we own.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
    own(fd)
}

/// Adds one to an eventfd's counter, waking a read posted on it.
pub(crate) fn eventfd_signal(fd: RawFd) {
    let one: u64 = 1;
    // SAFETY: the pointer and length describe `one`, which lives across the call.
    // A failure (EAGAIN when the counter is saturated) still leaves the counter
    // non-zero, so the reader wakes anyway; there is nothing else to do with it.
    let _ = unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
}

/// Creates a close-on-exec TCP socket for `addr`'s family with `TCP_NODELAY` set
/// (requests are written in one or two sends; Nagle would only add latency).
pub(crate) fn tcp_socket(addr: &SocketAddr) -> io::Result<OwnedFd> {
    let family = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: socket takes no pointers; a non-negative result is a fresh fd we own.
    let fd = own(unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) })?;
    let on: libc::c_int = 1;
    // SAFETY: the option value pointer and size describe `on`, alive for the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// True when an idle pooled connection is still usable: nothing to read and
/// no end-of-file. A server that closed an idle keep-alive connection makes
/// this false, so the request goes to a fresh connection instead.
pub(crate) fn socket_is_idle(fd: RawFd) -> bool {
    let mut byte = 0u8;
    // SAFETY: the buffer pointer and length describe `byte`, alive for the call;
    // MSG_DONTWAIT makes the call return at once.
    let n = unsafe {
        libc::recv(
            fd,
            (&mut byte as *mut u8).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock
}

/// Takes ownership of a file descriptor returned by a system call or an
/// io_uring completion (`res` >= 0), or turns a negative result into an error.
pub(crate) fn own(res: i32) -> io::Result<OwnedFd> {
    if res < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a non-negative result of socket/eventfd/openat is a new descriptor
    // that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(res) })
}

/// Takes ownership of a descriptor returned in an io_uring completion.
pub(crate) fn own_cqe(res: i32) -> io::Result<OwnedFd> {
    if res < 0 {
        return Err(io::Error::from_raw_os_error(-res));
    }
    // SAFETY: a non-negative openat completion is a new descriptor nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(res) })
}

/// What an open descriptor is, for checking where an opened path really led.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FdKind {
    /// `st_mode & S_IFMT`.
    pub(crate) file_type: u32,
    /// The file system's magic number (`statfs.f_type`).
    pub(crate) fs_magic: i64,
    /// Hard links to the file (`st_nlink`).
    pub(crate) links: u64,
}

/// `fstat` and `fstatfs` of `fd`: plain system calls on an open descriptor,
/// which do no I/O, so they are made directly rather than through the ring.
pub(crate) fn fd_kind(fd: RawFd) -> io::Result<FdKind> {
    // SAFETY: stat and statfs are plain old data; all-zero is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid, writable stat for the duration of the call.
    if unsafe { libc::fstat(fd, &mut st) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `fs` is a valid, writable statfs for the duration of the call.
    if unsafe { libc::fstatfs(fd, &mut fs) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(FdKind {
        file_type: st.st_mode & libc::S_IFMT,
        #[allow(
            clippy::unnecessary_cast,
            reason = "f_type's width differs between targets"
        )]
        fs_magic: fs.f_type as i64,
        #[allow(
            clippy::unnecessary_cast,
            reason = "st_nlink's width differs between targets"
        )]
        links: st.st_nlink as u64,
    })
}
