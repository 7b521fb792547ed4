//! Descriptor calls: reading, writing, seeking, stat and directory listing.

use super::super::ctx::WasiCtx;
use super::super::entropy::Clock;
use super::super::errno::{fdflags, filetype, rights, Errno};
use super::super::fds::Fd;
use super::super::vfs::{Node, NodeId, Vfs};
use super::memory::Mem;
use super::Ret;

/// The node behind `fd` if it is a file opened for writing.
pub(super) fn writable_file(c: &WasiCtx, fd: u32) -> Result<NodeId, Errno> {
    match c.fds.get(fd)? {
        Fd::File {
            node, write: true, ..
        } => Ok(*node),
        Fd::File { .. } => Err(Errno::BADF),
        Fd::Dir { .. } => Err(Errno::ISDIR),
        _ => Err(Errno::INVAL),
    }
}

pub(super) fn fdstat(m: &mut Mem<'_>, c: &WasiCtx, fd: u32, out: u32) -> Ret {
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
pub(super) struct Stat {
    ino: u64,
    kind: u8,
    size: u64,
    time: u64,
}

impl Stat {
    pub(super) fn of(vfs: &Vfs, node: NodeId, clock: &Clock) -> Result<Stat, Errno> {
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

    pub(super) fn stdio(clock: &Clock) -> Stat {
        Stat {
            ino: 0,
            kind: filetype::CHARACTER_DEVICE,
            size: 0,
            time: clock.realtime(),
        }
    }

    pub(super) fn write(&self, m: &mut Mem<'_>, out: u32) -> Ret {
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

pub(super) fn read(
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

pub(super) fn write(
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

pub(super) fn seek(c: &mut WasiCtx, fd: u32, offset: i64, whence: u32) -> Result<u64, Errno> {
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

pub(super) fn readdir(
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
