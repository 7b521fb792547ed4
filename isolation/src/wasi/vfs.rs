//! The in-memory file system a WASI call sees: one tree per call, built from the
//! shard's input sets and emptied with the store.
//!
//! Input files share the items' [`Bytes`] (no copy); files under output sets are
//! host vectors whose total size is bounded by the call's output budget, and the
//! number of files and directories a guest may create is capped. Nothing here
//! touches the host's file system.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::errno::Errno;

/// Index of a node in the tree's arena.
pub(crate) type NodeId = usize;

/// The root directory (`/`).
pub(crate) const ROOT: NodeId = 0;

/// A file's bytes: shared input data, or data the guest writes.
pub(crate) enum FileData {
    Input(Bytes),
    Output(Vec<u8>),
}

impl FileData {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            FileData::Input(b) => b,
            FileData::Output(v) => v,
        }
    }
}

/// A file or a directory.
pub(crate) enum Node {
    File(FileData),
    Dir {
        entries: BTreeMap<String, NodeId>,
        parent: NodeId,
        writable: bool,
    },
}

/// The tree plus its budgets.
pub(crate) struct Vfs {
    nodes: Vec<Option<Node>>,
    /// Nodes the guest may still create.
    creatable: u32,
    /// Bytes held by output files and stdio items.
    pub(crate) budget: Budget,
}

/// The output byte budget shared by output files and captured stdio.
pub(crate) struct Budget {
    used: u64,
    limit: u64,
    /// Set when a write was refused for lack of budget: the size it asked for.
    pub(crate) exceeded: Option<u64>,
}

impl Budget {
    pub(crate) fn new(limit: u64) -> Budget {
        Budget {
            used: 0,
            limit,
            exceeded: None,
        }
    }

    /// Accounts for a change from `old` to `new` bytes; refuses growth past the limit.
    pub(crate) fn resize(&mut self, old: u64, new: u64) -> Result<(), Errno> {
        let used = self.used.saturating_sub(old).saturating_add(new);
        if new > old && used > self.limit {
            self.exceeded = Some(self.exceeded.unwrap_or(0).max(used));
            return Err(Errno::FBIG);
        }
        self.used = used;
        Ok(())
    }
}

/// Which kind of node a lookup expects at the end of the path.
#[derive(Clone, Copy)]
pub(crate) struct Parent<'p> {
    pub(crate) dir: NodeId,
    pub(crate) name: &'p str,
    /// The path ended with `/`: the target must be a directory.
    pub(crate) trailing_slash: bool,
}

impl Vfs {
    /// An empty read-only root; `creatable` caps the nodes a guest may create.
    pub(crate) fn new(creatable: u32, output_limit: u64) -> Vfs {
        Vfs {
            nodes: vec![Some(Node::Dir {
                entries: BTreeMap::new(),
                parent: ROOT,
                writable: false,
            })],
            creatable,
            budget: Budget::new(output_limit),
        }
    }

    pub(crate) fn node(&self, id: NodeId) -> Result<&Node, Errno> {
        self.nodes
            .get(id)
            .and_then(Option::as_ref)
            .ok_or(Errno::BADF)
    }

    fn node_mut(&mut self, id: NodeId) -> Result<&mut Node, Errno> {
        self.nodes
            .get_mut(id)
            .and_then(Option::as_mut)
            .ok_or(Errno::BADF)
    }

    /// The entries of directory `id`, in name order.
    pub(crate) fn entries(&self, id: NodeId) -> Result<&BTreeMap<String, NodeId>, Errno> {
        match self.node(id)? {
            Node::Dir { entries, .. } => Ok(entries),
            Node::File(_) => Err(Errno::NOTDIR),
        }
    }

    pub(crate) fn is_dir(&self, id: NodeId) -> bool {
        matches!(self.node(id), Ok(Node::Dir { .. }))
    }

    fn dir_writable(&self, id: NodeId) -> Result<bool, Errno> {
        match self.node(id)? {
            Node::Dir { writable, .. } => Ok(*writable),
            Node::File(_) => Err(Errno::NOTDIR),
        }
    }

    /// Whether `id` is a file the guest may write (under an output set).
    pub(crate) fn file_writable(&self, id: NodeId) -> Result<bool, Errno> {
        match self.node(id)? {
            Node::File(FileData::Output(_)) => Ok(true),
            Node::File(FileData::Input(_)) => Ok(false),
            Node::Dir { .. } => Err(Errno::ISDIR),
        }
    }

    /// The parent of directory `id` (the root is its own parent).
    pub(crate) fn parent(&self, id: NodeId) -> Result<NodeId, Errno> {
        match self.node(id)? {
            Node::Dir { parent, .. } => Ok(*parent),
            Node::File(_) => Err(Errno::NOTDIR),
        }
    }

    /// Adds a node while building the tree (not counted against the guest's cap).
    pub(crate) fn insert(&mut self, dir: NodeId, name: String, node: Node) -> Option<NodeId> {
        let id = self.nodes.len();
        let Ok(Node::Dir { entries, .. }) = self.node_mut(dir) else {
            return None;
        };
        if entries.contains_key(&name) {
            return None;
        }
        entries.insert(name, id);
        self.nodes.push(Some(node));
        Some(id)
    }

    /// Builds a directory node below `parent`.
    pub(crate) fn dir_node(parent: NodeId, writable: bool) -> Node {
        Node::Dir {
            entries: BTreeMap::new(),
            parent,
            writable,
        }
    }

    /// Finds or creates (while building) directory `name` below `dir`.
    pub(crate) fn ensure_dir(&mut self, dir: NodeId, name: &str, writable: bool) -> Option<NodeId> {
        match self.entries(dir).ok()?.get(name) {
            Some(&id) => self.is_dir(id).then_some(id),
            None => self.insert(dir, name.to_owned(), Vfs::dir_node(dir, writable)),
        }
    }

    /// Resolves `path` relative to directory `dir`. Symbolic links do not exist;
    /// `..` at the root stays at the root.
    pub(crate) fn lookup(&self, dir: NodeId, path: &str) -> Result<NodeId, Errno> {
        let mut at = dir;
        for segment in path.split('/') {
            at = self.step(at, segment)?;
        }
        Ok(at)
    }

    fn step(&self, at: NodeId, segment: &str) -> Result<NodeId, Errno> {
        match segment {
            "" | "." => {
                self.entries(at)?;
                Ok(at)
            }
            ".." => self.parent(at),
            name => self.entries(at)?.get(name).copied().ok_or(Errno::NOENT),
        }
    }

    /// Splits `path` into its resolved parent directory and its last segment.
    pub(crate) fn parent_of<'p>(&self, dir: NodeId, path: &'p str) -> Result<Parent<'p>, Errno> {
        let trimmed = path.trim_end_matches('/');
        let trailing_slash = trimmed.len() != path.len();
        if trimmed.is_empty() {
            // `/` or the empty path: no last segment to create or remove.
            return Err(if path.is_empty() {
                Errno::NOENT
            } else {
                Errno::EXIST
            });
        }
        let (dir, name) = match trimmed.rfind('/') {
            Some(i) => (self.lookup(dir, &trimmed[..i])?, &trimmed[i + 1..]),
            None => (dir, trimmed),
        };
        self.entries(dir)?;
        Ok(Parent {
            dir,
            name,
            trailing_slash,
        })
    }

    fn take_creatable(&mut self) -> Result<(), Errno> {
        self.creatable = self.creatable.checked_sub(1).ok_or(Errno::NOSPC)?;
        Ok(())
    }

    /// Creates an empty output file `name` in `dir` (which must be writable).
    pub(crate) fn create_file(&mut self, dir: NodeId, name: &str) -> Result<NodeId, Errno> {
        self.check_new_entry(dir, name)?;
        self.take_creatable()?;
        self.insert(
            dir,
            name.to_owned(),
            Node::File(FileData::Output(Vec::new())),
        )
        .ok_or(Errno::EXIST)
    }

    /// Creates directory `name` in `dir` (which must be writable).
    pub(crate) fn create_dir(&mut self, dir: NodeId, name: &str) -> Result<NodeId, Errno> {
        self.check_new_entry(dir, name)?;
        self.take_creatable()?;
        self.insert(dir, name.to_owned(), Vfs::dir_node(dir, true))
            .ok_or(Errno::EXIST)
    }

    fn check_new_entry(&self, dir: NodeId, name: &str) -> Result<(), Errno> {
        if name == "." || name == ".." {
            return Err(Errno::EXIST);
        }
        if self.entries(dir)?.contains_key(name) {
            return Err(Errno::EXIST);
        }
        if !self.dir_writable(dir)? {
            return Err(Errno::ROFS);
        }
        Ok(())
    }

    /// Removes entry `name` of `dir`: a file (`want_dir` false) or an empty
    /// directory (`want_dir` true). Descriptors still open on it then answer
    /// `EBADF`.
    pub(crate) fn remove(&mut self, dir: NodeId, name: &str, want_dir: bool) -> Result<(), Errno> {
        let id = *self.entries(dir)?.get(name).ok_or(Errno::NOENT)?;
        match (self.node(id)?, want_dir) {
            (Node::File(_), true) => return Err(Errno::NOTDIR),
            (Node::Dir { .. }, false) => return Err(Errno::ISDIR),
            (Node::Dir { entries, .. }, true) if !entries.is_empty() => {
                return Err(Errno::NOTEMPTY)
            }
            _ => {}
        }
        if !self.dir_writable(dir)? {
            return Err(Errno::ROFS);
        }
        if let Ok(Node::Dir { entries, .. }) = self.node_mut(dir) {
            entries.remove(name);
        }
        if let Some(Node::File(FileData::Output(data))) =
            self.nodes.get(id).and_then(Option::as_ref)
        {
            let len = data.len() as u64;
            let _ = self.budget.resize(len, 0);
        }
        if let Some(slot) = self.nodes.get_mut(id) {
            *slot = None;
        }
        Ok(())
    }

    /// Moves entry `from.name` of `from.dir` to `to.name` of `to.dir`, replacing a
    /// file there. Both directories must be writable.
    pub(crate) fn rename(&mut self, from: Parent<'_>, to: Parent<'_>) -> Result<(), Errno> {
        let id = *self.entries(from.dir)?.get(from.name).ok_or(Errno::NOENT)?;
        if !self.dir_writable(from.dir)? || !self.dir_writable(to.dir)? {
            return Err(Errno::ROFS);
        }
        if to.name == "." || to.name == ".." {
            return Err(Errno::INVAL);
        }
        let moving_dir = self.is_dir(id);
        if moving_dir {
            // Refuse moving a directory below itself.
            let mut at = to.dir;
            loop {
                if at == id {
                    return Err(Errno::INVAL);
                }
                let up = self.parent(at)?;
                if up == at {
                    break;
                }
                at = up;
            }
        }
        if let Some(&existing) = self.entries(to.dir)?.get(to.name) {
            if existing == id {
                return Ok(());
            }
            match (self.is_dir(existing), moving_dir) {
                (true, false) => return Err(Errno::ISDIR),
                (false, true) => return Err(Errno::NOTDIR),
                (true, true) => self.remove(to.dir, to.name, true)?,
                (false, false) => self.remove(to.dir, to.name, false)?,
            }
        }
        if let Ok(Node::Dir { entries, .. }) = self.node_mut(from.dir) {
            entries.remove(from.name);
        }
        if let Ok(Node::Dir { entries, .. }) = self.node_mut(to.dir) {
            entries.insert(to.name.to_owned(), id);
        }
        if let Ok(Node::Dir { parent, .. }) = self.node_mut(id) {
            *parent = to.dir;
        }
        Ok(())
    }

    /// The file's bytes.
    pub(crate) fn data(&self, id: NodeId) -> Result<&[u8], Errno> {
        match self.node(id)? {
            Node::File(data) => Ok(data.bytes()),
            Node::Dir { .. } => Err(Errno::ISDIR),
        }
    }

    /// Size of a file (0 for directories).
    pub(crate) fn size(&self, id: NodeId) -> Result<u64, Errno> {
        match self.node(id)? {
            Node::File(data) => Ok(data.bytes().len() as u64),
            Node::Dir { .. } => Ok(0),
        }
    }

    /// The output file's vector, after charging the budget for growing it to
    /// at least `min_len` bytes (zero-filled).
    fn output_mut(&mut self, id: NodeId, min_len: u64) -> Result<&mut Vec<u8>, Errno> {
        let old = match self.node(id)? {
            Node::File(FileData::Output(v)) => v.len() as u64,
            Node::File(FileData::Input(_)) => return Err(Errno::ACCES),
            Node::Dir { .. } => return Err(Errno::ISDIR),
        };
        if min_len > old {
            usize::try_from(min_len).map_err(|_| Errno::FBIG)?;
            self.budget.resize(old, min_len)?;
        }
        match self.node_mut(id)? {
            Node::File(FileData::Output(v)) => {
                if (v.len() as u64) < min_len {
                    v.resize(min_len as usize, 0);
                }
                Ok(v)
            }
            _ => Err(Errno::BADF),
        }
    }

    /// Writes the pieces `chunks` at `offset`, growing the file as needed.
    pub(crate) fn write_at<'c>(
        &mut self,
        id: NodeId,
        offset: u64,
        chunks: impl Iterator<Item = &'c [u8]> + Clone,
    ) -> Result<u64, Errno> {
        let total: u64 = chunks.clone().map(|c| c.len() as u64).sum();
        let end = offset.checked_add(total).ok_or(Errno::FBIG)?;
        let file = self.output_mut(id, end)?;
        let mut at = offset as usize;
        for chunk in chunks {
            file[at..at + chunk.len()].copy_from_slice(chunk);
            at += chunk.len();
        }
        Ok(total)
    }

    /// Truncates or extends an output file to `len` bytes.
    pub(crate) fn set_size(&mut self, id: NodeId, len: u64) -> Result<(), Errno> {
        let file = self.output_mut(id, len)?;
        let old = file.len() as u64;
        if len < old {
            file.truncate(len as usize);
            let _ = self.budget.resize(old, len);
        }
        Ok(())
    }

    /// Moves an output file's bytes out of the tree (when the call is over).
    pub(crate) fn take_data(&mut self, id: NodeId) -> Bytes {
        match self.nodes.get_mut(id).and_then(Option::take) {
            Some(Node::File(FileData::Output(v))) => Bytes::from(v),
            Some(Node::File(FileData::Input(b))) => b,
            _ => Bytes::new(),
        }
    }
}
