//! `path_open`: resolving, creating and access checks.

use super::super::ctx::WasiCtx;
use super::super::errno::{fdflags, oflags, rights, Errno};
use super::super::fds::Fd;

pub(super) fn open(
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
