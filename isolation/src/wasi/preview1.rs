//! The `wasi_snapshot_preview1` functions this host provides, over [`WasiCtx`].
//!
//! Hand-written rather than taken from `wasmtime-wasi`: its preview1 layer is built
//! around real files, sockets and clocks, which a Pappus guest must never reach,
//! and it would add a large dependency tree. Every pointer and length the guest
//! passes is checked against its memory ([`Mem`]); a bad one is `EFAULT`, never a
//! host panic, and no guest-chosen count sizes a host allocation.

use std::fmt;
use std::ops::Range;

use wasmtime::{Caller, Extern, Linker, Module};

use super::ctx::WasiCtx;
use super::entropy::Clock;
use super::errno::{fdflags, filetype, oflags, rights, Errno};
use super::fds::Fd;
use super::vfs::{Node, NodeId, Vfs};
use crate::runtime::CallState;

/// The import module name of WASI preview 1.
pub(crate) const MODULE: &str = "wasi_snapshot_preview1";

/// Longest path the host reads from a guest, in bytes (`ENAMETOOLONG` beyond).
const MAX_PATH: u32 = 4096;

/// Store data of a WASI call.
pub(crate) struct WasiState {
    pub(crate) call: CallState,
    pub(crate) ctx: WasiCtx,
}

/// The trap `proc_exit` raises to unwind the guest with its exit code.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExitCode(pub(crate) u32);

impl fmt::Display for ExitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit with status {}", self.0)
    }
}

impl std::error::Error for ExitCode {}

/// Every function provided, for refusing the others at registration by name.
const PROVIDED: &[&str] = &[
    "args_get",
    "args_sizes_get",
    "environ_get",
    "environ_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_exit",
    "random_get",
    "sched_yield",
];

/// Whether `module` imports anything (then it must be a WASI module), and if so
/// whether every import is a function provided here.
///
/// # Errors
/// A message naming the first import that is refused.
pub(crate) fn check_imports(module: &Module) -> Result<bool, String> {
    let mut any = false;
    for import in module.imports() {
        any = true;
        let provided = import.module() == MODULE
            && PROVIDED.contains(&import.name())
            && matches!(import.ty(), wasmtime::ExternType::Func(_));
        if !provided {
            let why = if import.module() == MODULE {
                "which this host does not provide (no sockets or signals)"
            } else {
                "guest modules import nothing but WASI preview 1 functions"
            };
            return Err(format!(
                "imports `{}`.`{}`, {why}",
                import.module(),
                import.name()
            ));
        }
    }
    Ok(any)
}

/// A checked view of guest memory.
struct Mem<'a>(&'a mut [u8]);

impl Mem<'_> {
    fn range(&self, ptr: u32, len: u64) -> Result<Range<usize>, Errno> {
        crate::abi::range(self.0.len(), ptr, len).ok_or(Errno::FAULT)
    }

    fn bytes(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let r = self.range(ptr, u64::from(len))?;
        Ok(&self.0[r])
    }

    fn bytes_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let r = self.range(ptr, u64::from(len))?;
        Ok(&mut self.0[r])
    }

    fn put(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), Errno> {
        let r = self.range(ptr, bytes.len() as u64)?;
        self.0[r].copy_from_slice(bytes);
        Ok(())
    }

    fn u32(&self, ptr: u32) -> Result<u32, Errno> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.bytes(ptr, 4)?);
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&self, ptr: u32) -> Result<u64, Errno> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.bytes(ptr, 8)?);
        Ok(u64::from_le_bytes(b))
    }

    fn put_u32(&mut self, ptr: u32, v: u32) -> Result<(), Errno> {
        self.put(ptr, &v.to_le_bytes())
    }

    fn put_u64(&mut self, ptr: u32, v: u64) -> Result<(), Errno> {
        self.put(ptr, &v.to_le_bytes())
    }

    /// A path argument: at most [`MAX_PATH`] bytes of UTF-8.
    fn path(&self, ptr: u32, len: u32) -> Result<String, Errno> {
        if len > MAX_PATH {
            return Err(Errno::NAMETOOLONG);
        }
        let bytes = self.bytes(ptr, len)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| Errno::INVAL)
    }

    /// Checks an iovec array of `count` entries and returns its byte range.
    fn iovecs(&self, ptr: u32, count: u32) -> Result<Range<usize>, Errno> {
        let table = self.range(ptr, u64::from(count) * 8)?;
        for i in 0..count {
            let at = ptr + i * 8;
            self.range(self.u32(at)?, u64::from(self.u32(at + 4)?))?;
        }
        Ok(table)
    }

    /// The `i`th buffer of an iovec array already checked by [`Mem::iovecs`].
    fn iovec(&self, ptr: u32, i: u32) -> Result<Range<usize>, Errno> {
        let at = ptr + i * 8;
        self.range(self.u32(at)?, u64::from(self.u32(at + 4)?))
    }
}

type Ret = Result<(), Errno>;

/// Runs `f` over the caller's memory and WASI state; returns the errno.
fn with(
    caller: &mut Caller<'_, WasiState>,
    f: impl FnOnce(&mut Mem<'_>, &mut WasiCtx) -> Ret,
) -> i32 {
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return i32::from(Errno::FAULT.0);
    };
    let (data, state) = memory.data_and_store_mut(caller);
    match f(&mut Mem(data), &mut state.ctx) {
        Ok(()) => 0,
        Err(e) => i32::from(e.0),
    }
}

/// Registers every provided function in `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<WasiState>) -> wasmtime::Result<()> {
    // Arguments arrive as i32/i64; the casts below reinterpret them as the
    // unsigned preview1 types.
    macro_rules! wrap {
        ($name:literal, |$m:ident, $c:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {
            linker.func_wrap(MODULE, $name, |mut caller: Caller<'_, WasiState>, $($arg: $ty),*| -> i32 {
                with(&mut caller, |$m, $c| $body)
            })?;
        };
    }
    wrap!("args_get", |m, c, argv: i32, buf: i32| strings_get(
        m,
        &args(c),
        argv as u32,
        buf as u32
    ));
    wrap!("args_sizes_get", |m, c, count: i32, size: i32| {
        strings_sizes(m, &args(c), count as u32, size as u32)
    });
    wrap!("environ_get", |m, c, envp: i32, buf: i32| strings_get(
        m,
        &env(c),
        envp as u32,
        buf as u32
    ));
    wrap!("environ_sizes_get", |m, c, count: i32, size: i32| {
        strings_sizes(m, &env(c), count as u32, size as u32)
    });
    wrap!("clock_res_get", |m, _c, id: i32, out: i32| m
        .put_u64(out as u32, Clock::resolution(id as u32)?));
    wrap!("clock_time_get", |m,
                             c,
                             id: i32,
                             _precision: i64,
                             out: i32| {
        let now = c.clock.read(id as u32)?;
        m.put_u64(out as u32, now)
    });
    wrap!("fd_advise", |_m,
                        c,
                        fd: i32,
                        _off: i64,
                        _len: i64,
                        _advice: i32| c
        .fds
        .get(fd as u32)
        .map(|_| ()));
    wrap!("fd_allocate", |_m, c, fd: i32, off: i64, len: i64| {
        let node = writable_file(c, fd as u32)?;
        let end = (off as u64).checked_add(len as u64).ok_or(Errno::FBIG)?;
        if end > c.vfs.size(node)? {
            c.vfs.set_size(node, end)?;
        }
        Ok(())
    });
    wrap!("fd_close", |_m, c, fd: i32| c.fds.close(fd as u32));
    wrap!("fd_datasync", |_m, c, fd: i32| c
        .fds
        .get(fd as u32)
        .map(|_| ()));
    wrap!("fd_sync", |_m, c, fd: i32| c.fds.get(fd as u32).map(|_| ()));
    wrap!("fd_fdstat_get", |m, c, fd: i32, out: i32| fdstat(
        m, c, fd as u32, out as u32
    ));
    wrap!("fd_fdstat_set_flags", |_m, c, fd: i32, flags: i32| {
        match c.fds.get_mut(fd as u32)? {
            Fd::File { append, .. } => {
                *append = flags as u16 & fdflags::APPEND != 0;
                Ok(())
            }
            _ if flags == 0 => Ok(()),
            _ => Err(Errno::NOTSUP),
        }
    });
    wrap!(
        "fd_fdstat_set_rights",
        |_m, c, fd: i32, _base: i64, _inheriting: i64| c.fds.get(fd as u32).map(|_| ())
    );
    wrap!("fd_filestat_get", |m, c, fd: i32, out: i32| {
        let stat = match c.fds.get(fd as u32)? {
            Fd::File { node, .. } | Fd::Dir { node, .. } => Stat::of(&c.vfs, *node, &c.clock)?,
            _ => Stat::stdio(&c.clock),
        };
        stat.write(m, out as u32)
    });
    wrap!("fd_filestat_set_size", |_m, c, fd: i32, size: i64| {
        let node = writable_file(c, fd as u32)?;
        c.vfs.set_size(node, size as u64)
    });
    wrap!(
        "fd_filestat_set_times",
        |_m, c, fd: i32, _atim: i64, _mtim: i64, _flags: i32| {
            writable_file(c, fd as u32).map(|_| ())
        }
    );
    wrap!("fd_pread", |m,
                       c,
                       fd: i32,
                       iovs: i32,
                       count: i32,
                       offset: i64,
                       out: i32| {
        let n = read(
            m,
            c,
            fd as u32,
            iovs as u32,
            count as u32,
            Some(offset as u64),
        )?;
        m.put_u32(out as u32, n)
    });
    wrap!("fd_pwrite", |m,
                        c,
                        fd: i32,
                        iovs: i32,
                        count: i32,
                        offset: i64,
                        out: i32| {
        let n = write(
            m,
            c,
            fd as u32,
            iovs as u32,
            count as u32,
            Some(offset as u64),
        )?;
        m.put_u32(out as u32, n)
    });
    wrap!("fd_read", |m,
                      c,
                      fd: i32,
                      iovs: i32,
                      count: i32,
                      out: i32| {
        let n = read(m, c, fd as u32, iovs as u32, count as u32, None)?;
        m.put_u32(out as u32, n)
    });
    wrap!("fd_write", |m,
                       c,
                       fd: i32,
                       iovs: i32,
                       count: i32,
                       out: i32| {
        let n = write(m, c, fd as u32, iovs as u32, count as u32, None)?;
        m.put_u32(out as u32, n)
    });
    wrap!(
        "fd_prestat_get",
        |m, c, fd: i32, out: i32| match c.fds.get(fd as u32)? {
            Fd::Dir {
                preopen: Some(name),
                ..
            } => {
                m.put_u32(out as u32, 0)?;
                m.put_u32(out as u32 + 4, name.len() as u32)
            }
            _ => Err(Errno::BADF),
        }
    );
    wrap!(
        "fd_prestat_dir_name",
        |m, c, fd: i32, path: i32, len: i32| match c.fds.get(fd as u32)? {
            Fd::Dir {
                preopen: Some(name),
                ..
            } => {
                if (len as u32 as usize) < name.len() {
                    return Err(Errno::NAMETOOLONG);
                }
                m.put(path as u32, name.as_bytes())
            }
            _ => Err(Errno::BADF),
        }
    );
    wrap!("fd_readdir", |m,
                         c,
                         fd: i32,
                         buf: i32,
                         len: i32,
                         cookie: i64,
                         out: i32| {
        readdir(
            m,
            c,
            fd as u32,
            buf as u32,
            len as u32,
            cookie as u64,
            out as u32,
        )
    });
    wrap!("fd_renumber", |_m, c, from: i32, to: i32| c
        .fds
        .renumber(from as u32, to as u32));
    wrap!("fd_seek", |m,
                      c,
                      fd: i32,
                      offset: i64,
                      whence: i32,
                      out: i32| {
        let pos = seek(c, fd as u32, offset, whence as u32)?;
        m.put_u64(out as u32, pos)
    });
    wrap!("fd_tell", |m, c, fd: i32, out: i32| {
        let pos = seek(c, fd as u32, 0, 1)?;
        m.put_u64(out as u32, pos)
    });
    wrap!(
        "path_create_directory",
        |m, c, fd: i32, path: i32, len: i32| {
            let path = m.path(path as u32, len as u32)?;
            let parent = c.vfs.parent_of(c.fds.dir(fd as u32)?, &path)?;
            c.vfs.create_dir(parent.dir, parent.name).map(|_| ())
        }
    );
    wrap!(
        "path_filestat_get",
        |m, c, fd: i32, _flags: i32, path: i32, len: i32, out: i32| {
            let path = m.path(path as u32, len as u32)?;
            let node = c.vfs.lookup(c.fds.dir(fd as u32)?, &path)?;
            Stat::of(&c.vfs, node, &c.clock)?.write(m, out as u32)
        }
    );
    wrap!(
        "path_filestat_set_times",
        |m, c, fd: i32, _flags: i32, path: i32, len: i32, _atim: i64, _mtim: i64, _fst: i32| {
            let path = m.path(path as u32, len as u32)?;
            let node = c.vfs.lookup(c.fds.dir(fd as u32)?, &path)?;
            match c.vfs.file_writable(node) {
                Ok(true) => Ok(()),
                Ok(false) => Err(Errno::ROFS),
                // Times of directories are not kept; accept like a no-op.
                Err(_) => Ok(()),
            }
        }
    );
    wrap!("path_link", |_m,
                        _c,
                        _a: i32,
                        _b: i32,
                        _p: i32,
                        _l: i32,
                        _d: i32,
                        _q: i32,
                        _k: i32| Err(
        Errno::NOTSUP
    ));
    wrap!("path_symlink", |_m,
                           _c,
                           _p: i32,
                           _l: i32,
                           _d: i32,
                           _q: i32,
                           _k: i32| Err(
        Errno::NOTSUP
    ));
    wrap!("path_readlink", |m,
                            c,
                            fd: i32,
                            path: i32,
                            len: i32,
                            _buf: i32,
                            _buf_len: i32,
                            _out: i32| {
        let path = m.path(path as u32, len as u32)?;
        c.vfs.lookup(c.fds.dir(fd as u32)?, &path)?;
        // Nothing here is a symbolic link.
        Err(Errno::INVAL)
    });
    wrap!("path_open", |m,
                        c,
                        fd: i32,
                        _dirflags: i32,
                        path: i32,
                        len: i32,
                        oflags: i32,
                        base: i64,
                        _inheriting: i64,
                        flags: i32,
                        out: i32| {
        let path = m.path(path as u32, len as u32)?;
        let new = open(
            c,
            fd as u32,
            &path,
            oflags as u16,
            base as u64,
            flags as u16,
        )?;
        m.put_u32(out as u32, new)
    });
    wrap!(
        "path_remove_directory",
        |m, c, fd: i32, path: i32, len: i32| {
            let path = m.path(path as u32, len as u32)?;
            let parent = c.vfs.parent_of(c.fds.dir(fd as u32)?, &path)?;
            c.vfs.remove(parent.dir, parent.name, true)
        }
    );
    wrap!("path_unlink_file", |m, c, fd: i32, path: i32, len: i32| {
        let path = m.path(path as u32, len as u32)?;
        let parent = c.vfs.parent_of(c.fds.dir(fd as u32)?, &path)?;
        if parent.trailing_slash {
            return Err(Errno::NOTDIR);
        }
        c.vfs.remove(parent.dir, parent.name, false)
    });
    wrap!("path_rename", |m,
                          c,
                          fd: i32,
                          old: i32,
                          old_len: i32,
                          new_fd: i32,
                          new: i32,
                          new_len: i32| {
        let old = m.path(old as u32, old_len as u32)?;
        let new = m.path(new as u32, new_len as u32)?;
        let from = c.vfs.parent_of(c.fds.dir(fd as u32)?, &old)?;
        let to = c.vfs.parent_of(c.fds.dir(new_fd as u32)?, &new)?;
        c.vfs.rename(from, to)
    });
    wrap!("poll_oneoff", |m,
                          c,
                          subs: i32,
                          events: i32,
                          count: i32,
                          out: i32| {
        let n = poll(m, c, subs as u32, events as u32, count as u32)?;
        m.put_u32(out as u32, n)
    });
    wrap!("random_get", |m, c, buf: i32, len: i32| {
        c.random.fill(m.bytes_mut(buf as u32, len as u32)?);
        Ok(())
    });
    wrap!("sched_yield", |_m, _c| Ok(()));
    linker.func_wrap(
        MODULE,
        "proc_exit",
        |_caller: Caller<'_, WasiState>, code: i32| -> wasmtime::Result<()> {
            Err(wasmtime::Error::new(ExitCode(code as u32)))
        },
    )?;
    Ok(())
}

fn args(c: &WasiCtx) -> Vec<Vec<u8>> {
    if c.settings.args.is_empty() {
        return vec![c.program_name.as_bytes().to_vec()];
    }
    c.settings
        .args
        .iter()
        .map(|a| a.as_bytes().to_vec())
        .collect()
}

fn env(c: &WasiCtx) -> Vec<Vec<u8>> {
    c.settings
        .env
        .iter()
        .map(|(k, v)| format!("{k}={v}").into_bytes())
        .collect()
}

fn strings_sizes(m: &mut Mem<'_>, strings: &[Vec<u8>], count: u32, size: u32) -> Ret {
    let total: usize = strings.iter().map(|s| s.len() + 1).sum();
    m.put_u32(
        count,
        u32::try_from(strings.len()).map_err(|_| Errno::OVERFLOW)?,
    )?;
    m.put_u32(size, u32::try_from(total).map_err(|_| Errno::OVERFLOW)?)
}

fn strings_get(m: &mut Mem<'_>, strings: &[Vec<u8>], ptrs: u32, buf: u32) -> Ret {
    let mut at = buf;
    for (i, s) in strings.iter().enumerate() {
        let slot = ptrs
            .checked_add(u32::try_from(i * 4).map_err(|_| Errno::FAULT)?)
            .ok_or(Errno::FAULT)?;
        m.put_u32(slot, at)?;
        m.put(at, s)?;
        let end = at
            .checked_add(u32::try_from(s.len()).map_err(|_| Errno::FAULT)?)
            .ok_or(Errno::FAULT)?;
        m.put(end, &[0])?;
        at = end.checked_add(1).ok_or(Errno::FAULT)?;
    }
    Ok(())
}

/// The node behind `fd` if it is a file opened for writing.
fn writable_file(c: &WasiCtx, fd: u32) -> Result<NodeId, Errno> {
    match c.fds.get(fd)? {
        Fd::File {
            node, write: true, ..
        } => Ok(*node),
        Fd::File { .. } => Err(Errno::BADF),
        Fd::Dir { .. } => Err(Errno::ISDIR),
        _ => Err(Errno::INVAL),
    }
}

fn fdstat(m: &mut Mem<'_>, c: &WasiCtx, fd: u32, out: u32) -> Ret {
    let (kind, flags, base) = match c.fds.get(fd)? {
        // Character devices with seek rights: libc sees "not a terminal" and
        // buffers stdio fully.
        Fd::Stdin => (
            filetype::CHARACTER_DEVICE,
            0,
            rights::FD_READ | rights::FD_SEEK | rights::FD_TELL,
        ),
        Fd::Stdout | Fd::Stderr => (
            filetype::CHARACTER_DEVICE,
            0,
            rights::FD_WRITE | rights::FD_SEEK | rights::FD_TELL,
        ),
        Fd::File {
            read,
            write,
            append,
            ..
        } => {
            let mut r = rights::ALL & !(rights::FD_READ | rights::FD_WRITE);
            if *read {
                r |= rights::FD_READ;
            }
            if *write {
                r |= rights::FD_WRITE;
            }
            (
                filetype::REGULAR_FILE,
                if *append { fdflags::APPEND } else { 0 },
                r,
            )
        }
        Fd::Dir { .. } => (filetype::DIRECTORY, 0, rights::ALL),
    };
    let mut buf = [0u8; 24];
    buf[0] = kind;
    buf[2..4].copy_from_slice(&flags.to_le_bytes());
    buf[8..16].copy_from_slice(&base.to_le_bytes());
    buf[16..24].copy_from_slice(&rights::ALL.to_le_bytes());
    m.put(out, &buf)
}

/// A preview1 `filestat`.
struct Stat {
    ino: u64,
    kind: u8,
    size: u64,
    time: u64,
}

impl Stat {
    fn of(vfs: &Vfs, node: NodeId, clock: &Clock) -> Result<Stat, Errno> {
        let kind = match vfs.node(node)? {
            Node::File(_) => filetype::REGULAR_FILE,
            Node::Dir { .. } => filetype::DIRECTORY,
        };
        Ok(Stat {
            ino: node as u64 + 1,
            kind,
            size: vfs.size(node)?,
            time: clock.realtime(),
        })
    }

    fn stdio(clock: &Clock) -> Stat {
        Stat {
            ino: 0,
            kind: filetype::CHARACTER_DEVICE,
            size: 0,
            time: clock.realtime(),
        }
    }

    fn write(&self, m: &mut Mem<'_>, out: u32) -> Ret {
        let mut buf = [0u8; 64];
        buf[8..16].copy_from_slice(&self.ino.to_le_bytes());
        buf[16] = self.kind;
        buf[24..32].copy_from_slice(&1u64.to_le_bytes());
        buf[32..40].copy_from_slice(&self.size.to_le_bytes());
        for at in [40, 48, 56] {
            buf[at..at + 8].copy_from_slice(&self.time.to_le_bytes());
        }
        m.put(out, &buf)
    }
}

fn read(
    m: &mut Mem<'_>,
    c: &mut WasiCtx,
    fd: u32,
    iovs: u32,
    count: u32,
    at: Option<u64>,
) -> Result<u32, Errno> {
    m.iovecs(iovs, count)?;
    let mut total = 0u64;
    match c.fds.get(fd)?.clone() {
        Fd::Stdin if at.is_none() => {
            for i in 0..count {
                let r = m.iovec(iovs, i)?;
                let want = r.len();
                let n = c.stdin.read(&mut m.0[r]);
                total += n as u64;
                if n < want {
                    break;
                }
            }
        }
        Fd::Stdin | Fd::Stdout | Fd::Stderr => {
            return Err(if at.is_some() {
                Errno::SPIPE
            } else {
                Errno::BADF
            })
        }
        Fd::Dir { .. } => return Err(Errno::ISDIR),
        Fd::File {
            node, pos, read, ..
        } => {
            if !read {
                return Err(Errno::BADF);
            }
            let data = c.vfs.data(node)?;
            let mut offset = at.unwrap_or(pos);
            for i in 0..count {
                let r = m.iovec(iovs, i)?;
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                let n = r.len().min(data.len() - start);
                m.0[r.start..r.start + n].copy_from_slice(&data[start..start + n]);
                offset += n as u64;
                total += n as u64;
                if n < r.len() {
                    break;
                }
            }
            if at.is_none() {
                if let Fd::File { pos, .. } = c.fds.get_mut(fd)? {
                    *pos = offset;
                }
            }
        }
    }
    u32::try_from(total).map_err(|_| Errno::OVERFLOW)
}

fn write(
    m: &mut Mem<'_>,
    c: &mut WasiCtx,
    fd: u32,
    iovs: u32,
    count: u32,
    at: Option<u64>,
) -> Result<u32, Errno> {
    m.iovecs(iovs, count)?;
    let mem = &*m.0;
    let chunks = (0..count).filter_map(|i| {
        let at = iovs + i * 8;
        let ptr = u32::from_le_bytes(mem[at as usize..at as usize + 4].try_into().ok()?);
        let len = u32::from_le_bytes(mem[at as usize + 4..at as usize + 8].try_into().ok()?);
        crate::abi::range(mem.len(), ptr, u64::from(len)).map(|r| &mem[r])
    });
    let total: u64 = chunks.clone().map(|c| c.len() as u64).sum();
    let n = u32::try_from(total).map_err(|_| Errno::OVERFLOW)?;
    match c.fds.get(fd)?.clone() {
        Fd::Stdout | Fd::Stderr if at.is_some() => return Err(Errno::SPIPE),
        Fd::Stdout => {
            for chunk in chunks {
                c.stdout.write(chunk, &mut c.vfs.budget)?;
            }
        }
        Fd::Stderr => {
            for chunk in chunks {
                c.tail.push(chunk);
                c.stderr.write(chunk, &mut c.vfs.budget)?;
            }
        }
        Fd::Stdin => return Err(Errno::BADF),
        Fd::Dir { .. } => return Err(Errno::ISDIR),
        Fd::File {
            node,
            pos,
            write,
            append,
            ..
        } => {
            if !write {
                return Err(Errno::BADF);
            }
            let offset = match at {
                Some(offset) => offset,
                None if append => c.vfs.size(node)?,
                None => pos,
            };
            c.vfs.write_at(node, offset, chunks)?;
            if at.is_none() {
                if let Fd::File { pos, .. } = c.fds.get_mut(fd)? {
                    *pos = offset + total;
                }
            }
        }
    }
    Ok(n)
}

fn seek(c: &mut WasiCtx, fd: u32, offset: i64, whence: u32) -> Result<u64, Errno> {
    let (node, current) = match c.fds.get(fd)? {
        Fd::File { node, pos, .. } => (*node, *pos),
        Fd::Dir { .. } => return Err(Errno::ISDIR),
        _ => return Err(Errno::SPIPE),
    };
    let base = match whence {
        0 => 0,
        1 => current,
        2 => c.vfs.size(node)?,
        _ => return Err(Errno::INVAL),
    };
    let new = i64::try_from(base)
        .ok()
        .and_then(|b| b.checked_add(offset))
        .filter(|n| *n >= 0)
        .ok_or(Errno::INVAL)? as u64;
    if let Fd::File { pos, .. } = c.fds.get_mut(fd)? {
        *pos = new;
    }
    Ok(new)
}

fn open(
    c: &mut WasiCtx,
    dirfd: u32,
    path: &str,
    oflags: u16,
    base: u64,
    flags: u16,
) -> Result<u32, Errno> {
    let dir = c.fds.dir(dirfd)?;
    let node = if oflags & oflags::CREAT != 0 {
        let parent = c.vfs.parent_of(dir, path)?;
        match c.vfs.entries(parent.dir)?.get(parent.name) {
            Some(_) if oflags & oflags::EXCL != 0 => return Err(Errno::EXIST),
            Some(&node) => node,
            None if parent.trailing_slash => return Err(Errno::ISDIR),
            None => c.vfs.create_file(parent.dir, parent.name)?,
        }
    } else {
        c.vfs.lookup(dir, path)?
    };
    let write = base & rights::FD_WRITE != 0 || oflags & oflags::TRUNC != 0;
    if c.vfs.is_dir(node) {
        if write {
            return Err(Errno::ISDIR);
        }
        return c.fds.open(Fd::Dir {
            node,
            preopen: None,
        });
    }
    if oflags & oflags::DIRECTORY != 0 || path.ends_with('/') {
        return Err(Errno::NOTDIR);
    }
    if write && !c.vfs.file_writable(node)? {
        return Err(Errno::ACCES);
    }
    let new = c.fds.open(Fd::File {
        node,
        pos: 0,
        read: base & rights::FD_READ != 0,
        write,
        append: flags & fdflags::APPEND != 0,
    })?;
    if oflags & oflags::TRUNC != 0 {
        if let Err(e) = c.vfs.set_size(node, 0) {
            let _ = c.fds.close(new);
            return Err(e);
        }
    }
    Ok(new)
}

fn readdir(
    m: &mut Mem<'_>,
    c: &WasiCtx,
    fd: u32,
    buf: u32,
    len: u32,
    cookie: u64,
    out: u32,
) -> Ret {
    let dir = c.fds.dir(fd)?;
    let target = m.range(buf, u64::from(len))?;
    let entries = c.vfs.entries(dir)?;
    let parent = c.vfs.parent(dir)?;
    let specials = [(".", dir), ("..", parent)];
    let all = specials
        .into_iter()
        .chain(entries.iter().map(|(n, &id)| (n.as_str(), id)));
    let mut used = 0usize;
    for (index, (name, node)) in all
        .enumerate()
        .skip(usize::try_from(cookie).unwrap_or(usize::MAX))
    {
        let kind = if c.vfs.is_dir(node) {
            filetype::DIRECTORY
        } else {
            filetype::REGULAR_FILE
        };
        let mut header = [0u8; 24];
        header[0..8].copy_from_slice(&(index as u64 + 1).to_le_bytes());
        header[8..16].copy_from_slice(&(node as u64 + 1).to_le_bytes());
        header[16..20].copy_from_slice(&(name.len() as u32).to_le_bytes());
        header[20] = kind;
        // Entries that do not fit are truncated, as preview1 specifies: the guest
        // sees a full buffer and asks again with a larger one or the same cookie.
        for bytes in [&header[..], name.as_bytes()] {
            let room = target.len() - used;
            let n = bytes.len().min(room);
            m.0[target.start + used..target.start + used + n].copy_from_slice(&bytes[..n]);
            used += n;
        }
        if used == target.len() {
            break;
        }
    }
    m.put_u32(out, used as u32)
}

fn poll(
    m: &mut Mem<'_>,
    c: &mut WasiCtx,
    subs: u32,
    events: u32,
    count: u32,
) -> Result<u32, Errno> {
    if count == 0 {
        return Err(Errno::INVAL);
    }
    m.range(subs, u64::from(count) * 48)?;
    m.range(events, u64::from(count) * 32)?;
    // Nothing here ever blocks: every subscription is ready at once, and a clock
    // subscription lets its timeout pass on the logical monotonic clock.
    let mut sleep = 0u64;
    for i in 0..count {
        let sub = subs + i * 48;
        let userdata = m.u64(sub)?;
        let tag = m.bytes(sub + 8, 1)?[0];
        let mut event = [0u8; 32];
        event[0..8].copy_from_slice(&userdata.to_le_bytes());
        event[10] = tag;
        match tag {
            0 => {
                let timeout = m.u64(sub + 24)?;
                let absolute = m.bytes(sub + 40, 2)?[0] & 1 != 0;
                if !absolute {
                    sleep = sleep.max(timeout);
                }
            }
            1 | 2 => {
                let fd = m.u32(sub + 16)?;
                let errno = match c.fds.get(fd) {
                    Ok(_) => Errno::SUCCESS,
                    Err(e) => e,
                };
                event[8..10].copy_from_slice(&errno.0.to_le_bytes());
            }
            _ => event[8..10].copy_from_slice(&Errno::INVAL.0.to_le_bytes()),
        }
        m.put(events + i * 32, &event)?;
    }
    c.clock.advance(sleep);
    Ok(count)
}
