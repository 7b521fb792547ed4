//! The descriptor table: stdio on 0-2, the root preopened as `/` on 3, then the
//! files and directories the guest opens, up to a cap.

use super::errno::Errno;
use super::vfs::{NodeId, ROOT};

/// What a descriptor refers to.
#[derive(Clone, Debug)]
pub(crate) enum Fd {
    Stdin,
    Stdout,
    Stderr,
    File {
        node: NodeId,
        pos: u64,
        read: bool,
        write: bool,
        append: bool,
    },
    Dir {
        node: NodeId,
        /// `Some("/")` for the preopened root.
        preopen: Option<&'static str>,
    },
}

/// The call's descriptors. Closed slots are reused lowest first, as POSIX does.
pub(crate) struct FdTable {
    slots: Vec<Option<Fd>>,
    max_open: usize,
}

impl FdTable {
    /// stdio and the root; at most `max_open` descriptors besides those four.
    pub(crate) fn new(max_open: u32) -> FdTable {
        FdTable {
            slots: vec![
                Some(Fd::Stdin),
                Some(Fd::Stdout),
                Some(Fd::Stderr),
                Some(Fd::Dir {
                    node: ROOT,
                    preopen: Some("/"),
                }),
            ],
            max_open: (max_open as usize).saturating_add(4),
        }
    }

    pub(crate) fn get(&self, fd: u32) -> Result<&Fd, Errno> {
        self.slots
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::BADF)
    }

    pub(crate) fn get_mut(&mut self, fd: u32) -> Result<&mut Fd, Errno> {
        self.slots
            .get_mut(fd as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::BADF)
    }

    /// The directory node behind `fd`.
    pub(crate) fn dir(&self, fd: u32) -> Result<NodeId, Errno> {
        match self.get(fd)? {
            Fd::Dir { node, .. } => Ok(*node),
            _ => Err(Errno::NOTDIR),
        }
    }

    /// Stores `entry` in the lowest free slot; `EMFILE` past the cap.
    pub(crate) fn open(&mut self, entry: Fd) -> Result<u32, Errno> {
        if let Some(i) = self.slots.iter().position(Option::is_none) {
            self.slots[i] = Some(entry);
            return Ok(i as u32);
        }
        if self.slots.len() >= self.max_open {
            return Err(Errno::MFILE);
        }
        self.slots.push(Some(entry));
        Ok((self.slots.len() - 1) as u32)
    }

    pub(crate) fn close(&mut self, fd: u32) -> Result<(), Errno> {
        let slot = self.slots.get_mut(fd as usize).ok_or(Errno::BADF)?;
        slot.take().map(|_| ()).ok_or(Errno::BADF)
    }

    /// `fd_renumber`: moves `from` onto `to` (closing what `to` held).
    pub(crate) fn renumber(&mut self, from: u32, to: u32) -> Result<(), Errno> {
        self.get(to)?;
        let entry = self.get(from)?.clone();
        self.slots[to as usize] = Some(entry);
        if from != to {
            self.slots[from as usize] = None;
        }
        Ok(())
    }
}
