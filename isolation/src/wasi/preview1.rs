//! The `wasi_snapshot_preview1` functions this host provides, over [`WasiCtx`].
//!
//! Hand-written rather than taken from `wasmtime-wasi`: its preview1 layer is built
//! around real files, sockets and clocks, which a Pappus guest must never reach,
//! and it would add a large dependency tree. Every pointer and length the guest
//! passes is checked against its memory ([`Mem`]); a bad one is `EFAULT`, never a
//! host panic, and no guest-chosen count sizes a host allocation.

mod fd;
mod memory;
mod path;
mod process;

use std::fmt;

use wasmtime::{Caller, Extern, Linker, Module};

use super::ctx::WasiCtx;
use super::entropy::Clock;
use super::errno::{fdflags, Errno};
use super::fds::Fd;
use crate::call_state::CallState;
use crate::interrupt;
use fd::{fdstat, read, readdir, seek, writable_file, write, Stat};
use memory::Mem;
use path::open;
use process::{args, env, poll, strings_get, strings_sizes};

/// The import module name of WASI preview 1.
pub(crate) const MODULE: &str = "wasi_snapshot_preview1";

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
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
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
                "which this host does not provide (no signals)"
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

pub(super) type Ret = Result<(), Errno>;

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

/// The answer of a socket call on `fd`: no descriptor is a socket.
fn not_a_socket(c: &WasiCtx, fd: u32) -> Ret {
    c.fds.get(fd)?;
    Err(Errno::NOTSUP)
}

/// Registers every provided function in `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<WasiState>) -> wasmtime::Result<()> {
    // Arguments arrive as i32/i64; the casts below reinterpret them as the
    // unsigned preview1 types.
    macro_rules! wrap {
        ($name:literal, |$m:ident, $c:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {
            linker.func_wrap(MODULE, $name, |mut caller: Caller<'_, WasiState>, $($arg: $ty),*| -> wasmtime::Result<i32> {
                // A call the watchdog is stopping runs no more host code: its
                // signal cannot stop the guest while the host is working for it.
                if interrupt::stopping() {
                    return Err(wasmtime::Error::msg("call stopped"));
                }
                Ok(with(&mut caller, |$m, $c| $body))
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
    // Sockets cannot exist here (a function has no network), but stock builds
    // of interpreters link these calls: they answer `EBADF` for a closed
    // descriptor and `ENOTSUP` for any open one, which is never a socket.
    wrap!("sock_accept", |_m, c, fd: i32, _flags: i32, _out: i32| {
        not_a_socket(c, fd as u32)
    });
    wrap!("sock_recv", |_m,
                        c,
                        fd: i32,
                        _iovs: i32,
                        _count: i32,
                        _flags: i32,
                        _len_out: i32,
                        _flags_out: i32| {
        not_a_socket(c, fd as u32)
    });
    wrap!("sock_send", |_m,
                        c,
                        fd: i32,
                        _iovs: i32,
                        _count: i32,
                        _flags: i32,
                        _len_out: i32| {
        not_a_socket(c, fd as u32)
    });
    wrap!("sock_shutdown", |_m, c, fd: i32, _how: i32| not_a_socket(
        c, fd as u32
    ));
    linker.func_wrap(
        MODULE,
        "proc_exit",
        |_caller: Caller<'_, WasiState>, code: i32| -> wasmtime::Result<()> {
            Err(wasmtime::Error::new(ExitCode(code as u32)))
        },
    )?;
    Ok(())
}
