//! One call's WASI state: laying the input sets out as directories (with their
//! keys under `/.keys`), and turning the output directories back into items.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use super::entropy::{Clock, Random};
use super::fds::FdTable;
use super::names;
use super::stdio::{Capture, Stdin, Tail};
use super::vfs::{FileData, Node, NodeId, Vfs, ROOT};
use crate::{CallOptions, InputSet, Item, OutputSet, WasiSettings};

/// The directory holding the key files.
pub(crate) const KEYS_DIR: &str = ".keys";
/// The set names bound to stdio rather than to directories.
pub(crate) const STDIN: &str = "stdin";
pub(crate) const STDOUT: &str = "stdout";
pub(crate) const STDERR: &str = "stderr";

/// The host state behind the preview1 imports for one call.
pub(crate) struct WasiCtx {
    pub(crate) vfs: Vfs,
    pub(crate) fds: FdTable,
    pub(crate) stdin: Stdin,
    pub(crate) stdout: Capture,
    pub(crate) stderr: Capture,
    pub(crate) tail: Tail,
    pub(crate) clock: Clock,
    pub(crate) random: Random,
    pub(crate) settings: Arc<WasiSettings>,
    /// `argv[0]` when the settings give no arguments.
    pub(crate) program_name: Arc<str>,
    /// Output set name, its directory and its key directory (`None` for stdio).
    outputs: Vec<(String, Option<(NodeId, NodeId)>)>,
}

/// Why the outputs could not be collected.
pub(crate) enum CollectError {
    /// A key file does not hold a key.
    BadKey(String),
    /// Output bytes over the limit (names plus data).
    TooLarge(u64),
}

impl WasiCtx {
    /// Lays out the call's file system.
    ///
    /// # Errors
    /// A message when two sets map to the same directory.
    pub(crate) fn new(
        settings: Arc<WasiSettings>,
        program_name: Arc<str>,
        inputs: &[InputSet<'_>],
        options: &CallOptions<'_>,
        max_output_bytes: u64,
    ) -> Result<WasiCtx, String> {
        let mut vfs = Vfs::new(settings.max_output_files, max_output_bytes);
        let keys = vfs
            .ensure_dir(ROOT, KEYS_DIR, false)
            .ok_or_else(|| "cannot create /.keys".to_owned())?;
        let mut stdin = Stdin::new(&[]);
        for set in inputs {
            if set.name == STDIN {
                stdin = Stdin::new(set.items);
            }
            let dir_name = names::encode_segment(set.name);
            let clash = || {
                format!(
                    "input set `{}` maps to a directory already in use",
                    set.name
                )
            };
            let dir = vfs
                .insert(ROOT, dir_name.clone(), Vfs::dir_node(ROOT, false))
                .ok_or_else(clash)?;
            let key_dir = vfs
                .insert(keys, dir_name, Vfs::dir_node(keys, false))
                .ok_or_else(clash)?;
            for item in set.items {
                place_input(&mut vfs, dir, key_dir, item);
            }
        }
        let mut outputs = Vec::with_capacity(options.outputs.len());
        for &name in options.outputs {
            if name == STDOUT || name == STDERR {
                outputs.push((name.to_owned(), None));
                continue;
            }
            let dir_name = names::encode_segment(name);
            let clash = || format!("output set `{name}` maps to a directory already in use");
            let dir = vfs
                .insert(ROOT, dir_name.clone(), Vfs::dir_node(ROOT, true))
                .ok_or_else(clash)?;
            let key_dir = vfs
                .insert(keys, dir_name, Vfs::dir_node(keys, true))
                .ok_or_else(clash)?;
            outputs.push((name.to_owned(), Some((dir, key_dir))));
        }
        Ok(WasiCtx {
            vfs,
            fds: FdTable::new(settings.max_open_files),
            stdin,
            stdout: Capture::new(options.outputs.contains(&STDOUT)),
            stderr: Capture::new(options.outputs.contains(&STDERR)),
            tail: Tail::default(),
            clock: Clock::new(&options.context),
            random: Random::new(&options.context),
            settings,
            program_name,
            outputs,
        })
    }

    /// The output sets, in the order the options declared them.
    pub(crate) fn collect(
        &mut self,
        inputs: &[InputSet<'_>],
        options: &CallOptions<'_>,
        max_output_bytes: u64,
    ) -> Result<Vec<OutputSet>, CollectError> {
        if let Some(actual) = self.vfs.budget.exceeded {
            return Err(CollectError::TooLarge(actual));
        }
        let mut input_keys: HashMap<&str, u64> = HashMap::new();
        for set in inputs {
            for item in set.items {
                input_keys.entry(item.name.as_str()).or_insert(item.key);
            }
        }
        let stdin_items = inputs
            .iter()
            .find(|s| s.name == STDIN)
            .map_or(&[][..], |s| s.items);
        let stdio_item = |name: &str, data: Vec<u8>| match stdin_items {
            [only] => Item::new(only.name.clone(), only.key, data),
            _ => Item::new(name, options.shard_key.unwrap_or(0), data),
        };
        let mut total = 0u64;
        let mut sets = Vec::with_capacity(self.outputs.len());
        for (name, dirs) in std::mem::take(&mut self.outputs) {
            let items = match dirs {
                None => {
                    let capture = if name == STDOUT {
                        &mut self.stdout
                    } else {
                        &mut self.stderr
                    };
                    vec![stdio_item(&name, capture.data.take().unwrap_or_default())]
                }
                Some((dir, key_dir)) => {
                    let mut files = Vec::new();
                    walk(&self.vfs, dir, &mut files);
                    let mut items = Vec::with_capacity(files.len());
                    for (segments, node) in files {
                        let refs: Vec<&str> = segments.iter().map(String::as_str).collect();
                        let item_name = names::decode(&refs);
                        let key = match self.key_file(key_dir, &refs)? {
                            Some(key) => key,
                            None => options
                                .shard_key
                                .or_else(|| input_keys.get(item_name.as_str()).copied())
                                .unwrap_or(0),
                        };
                        let data = self.vfs.take_data(node);
                        items.push(Item::new(item_name, key, data));
                    }
                    items
                }
            };
            for item in &items {
                total = total
                    .saturating_add(item.name.len() as u64)
                    .saturating_add(item.data.len() as u64);
            }
            sets.push(OutputSet { name, items });
        }
        if total > max_output_bytes {
            return Err(CollectError::TooLarge(total));
        }
        Ok(sets)
    }

    /// The key written to `/.keys/<set>/<segments>`, if the guest wrote one.
    fn key_file(&self, key_dir: NodeId, segments: &[&str]) -> Result<Option<u64>, CollectError> {
        let Ok(node) = self.vfs.lookup(key_dir, &segments.join("/")) else {
            return Ok(None);
        };
        let Ok(data) = self.vfs.data(node) else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(data);
        let trimmed = text.trim();
        trimmed.parse::<u64>().map(Some).map_err(|_| {
            let shown: String = trimmed.chars().take(64).collect();
            CollectError::BadKey(format!(
                "key file `/{KEYS_DIR}/.../{}` holds `{shown}`, not a decimal u64",
                segments.join("/")
            ))
        })
    }
}

/// Places one input item (and its key file) under its set's directory.
fn place_input(vfs: &mut Vfs, dir: NodeId, key_dir: NodeId, item: &Item) {
    let nested = names::encode(&item.name);
    let flat = vec![names::encode_segment(&item.name)];
    let candidates = [nested, flat];
    let chosen = candidates
        .iter()
        .find(|segments| fits(vfs, dir, segments))
        .cloned()
        .or_else(|| {
            // A duplicate name: suffix `%~N`, which no encoded name contains.
            (2u64..)
                .map(|n| vec![format!("{}%~{n}", names::encode_segment(&item.name))])
                .find(|segments| fits(vfs, dir, segments))
        });
    let Some(segments) = chosen else {
        return;
    };
    let key = Bytes::from(format!("{}\n", item.key));
    for (root, data) in [(dir, item.data.clone()), (key_dir, key)] {
        let mut at = root;
        let (last, parents) = match segments.split_last() {
            Some(split) => split,
            None => return,
        };
        for segment in parents {
            match vfs.ensure_dir(at, segment, false) {
                Some(next) => at = next,
                None => return,
            }
        }
        vfs.insert(at, last.clone(), Node::File(FileData::Input(data)));
    }
}

/// Whether a file can be created at `segments` below `dir`.
fn fits(vfs: &Vfs, dir: NodeId, segments: &[String]) -> bool {
    let mut at = dir;
    for (i, segment) in segments.iter().enumerate() {
        let Ok(entries) = vfs.entries(at) else {
            return false;
        };
        match entries.get(segment) {
            None => return true,
            Some(_) if i + 1 == segments.len() => return false,
            Some(&next) if vfs.is_dir(next) => at = next,
            Some(_) => return false,
        }
    }
    false
}

/// Every regular file below `dir`, depth first in name order. Iterative: a guest
/// may nest directories as deep as its file cap allows.
fn walk(vfs: &Vfs, dir: NodeId, out: &mut Vec<(Vec<String>, NodeId)>) {
    let mut stack: Vec<(Vec<String>, NodeId)> = vec![(Vec::new(), dir)];
    while let Some((path, node)) = stack.pop() {
        let Ok(entries) = vfs.entries(node) else {
            out.push((path, node));
            continue;
        };
        // Pushed in reverse so that entries come off the stack in name order.
        for (name, &child) in entries.iter().rev() {
            let mut child_path = path.clone();
            child_path.push(name.clone());
            stack.push((child_path, child));
        }
    }
}
