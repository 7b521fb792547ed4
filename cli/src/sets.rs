//! Input and output sets on the command line, shared by `pappus run` (an
//! embedded engine) and `pappus invoke` (a daemon) so that both take the same
//! flags and print the same JSON (`docs/json.md`).
//!
//! Inputs: `--inputs FILE` (the JSON form), then each `--input SET=@PATH` (an
//! item named after the file; a directory gives one item per file) or
//! `--input SET=TEXT` adds items. Outputs: the JSON form on stdout and, with
//! `--out-dir DIR`, every item's data in `DIR/<SET>/<NAME>` (see [`write_outputs`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use pappus_engine::{json, Item, Sets};

/// The input flags of `pappus run` and `pappus invoke`.
#[derive(clap::Args)]
pub(crate) struct InputArgs {
    /// Inputs as JSON: {"SET": [{"name": .., "key": .., "data": ..}], ...}.
    #[arg(long, value_name = "FILE")]
    inputs: Option<PathBuf>,
    /// One input: SET=@PATH (an item named after the file; a directory gives
    /// one item per file) or SET=TEXT (one item named ""), key 0 (repeatable).
    #[arg(long = "input", short = 'i', value_name = "SET=@PATH|SET=TEXT")]
    input: Vec<String>,
}

impl InputArgs {
    /// The input sets: `--inputs`, then each `--input` adds items.
    ///
    /// # Errors
    /// A file cannot be read, the JSON is invalid, or an `--input` is malformed.
    pub(crate) fn sets(&self) -> anyhow::Result<Sets> {
        let mut inputs = match &self.inputs {
            Some(path) => {
                let text = std::fs::read(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                json::parse_sets(&text)
                    .with_context(|| format!("invalid inputs in {}", path.display()))?
            }
            None => Sets::new(),
        };
        for spec in &self.input {
            let (set, items) = parse_input(spec)?;
            inputs.entry(set).or_default().extend(items);
        }
        Ok(inputs)
    }
}

/// The output flag of `pappus run` and `pappus invoke`.
#[derive(clap::Args)]
pub(crate) struct OutputArgs {
    /// Also write each output item's data to `DIR/<SET>/<NAME>` (an item whose
    /// name is not a usable file name is written as `<KEY>`, or `<KEY>-<N>`).
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

impl OutputArgs {
    /// Prints `outputs` as JSON on stdout and writes them under `--out-dir`.
    ///
    /// # Errors
    /// A file under `--out-dir` cannot be written.
    pub(crate) fn emit(&self, outputs: &Sets) -> anyhow::Result<()> {
        print!("{}", json::render_sets(outputs));
        if let Some(dir) = &self.out_dir {
            let written = write_outputs(dir, outputs)?;
            eprintln!(
                "wrote {written} file{} under {}",
                if written == 1 { "" } else { "s" },
                dir.display()
            );
        }
        Ok(())
    }
}

/// Items for `--input SET=@PATH` or `SET=TEXT`.
fn parse_input(spec: &str) -> anyhow::Result<(String, Vec<Item>)> {
    let Some((set, value)) = spec.split_once('=') else {
        bail!("--input `{spec}` is not SET=@PATH or SET=TEXT");
    };
    let Some(path) = value.strip_prefix('@') else {
        return Ok((set.to_string(), vec![Item::new("", 0, value.to_string())]));
    };
    let path = Path::new(path);
    let item_for = |p: &Path| -> anyhow::Result<Item> {
        let data = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Item::new(name, 0, data))
    };
    let mut items = Vec::new();
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot list {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for file in files {
            items.push(item_for(&file)?);
        }
    } else {
        items.push(item_for(path)?);
    }
    Ok((set.to_string(), items))
}

/// Longest item name used as a file name as is: file systems take 255 bytes,
/// and a `-<N>` suffix must still fit.
const MAX_FILE_NAME_BYTES: usize = 200;

/// Whether an item name can be used as a file name inside its set's directory:
/// one path component that is neither `.` nor `..`, without NUL and not too long.
fn usable_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\0'])
        && name.len() <= MAX_FILE_NAME_BYTES
}

/// The file name of `item` in its set's directory, unique among `used` (which
/// it joins): the item's name if usable, else its key; `-1`, `-2`, ... appended
/// on a collision. Item names come from guest functions, so nothing here may
/// trust them beyond [`usable_file_name`].
fn file_name_for(item: &Item, used: &mut HashSet<String>) -> String {
    let base = if usable_file_name(&item.name) {
        item.name.clone()
    } else {
        item.key.to_string()
    };
    if used.insert(base.clone()) {
        return base;
    }
    let mut n: u64 = 1;
    loop {
        let candidate = format!("{base}-{n}");
        if used.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

/// Writes every output item's data to `dir/<SET>/<file name>` (see
/// [`file_name_for`]), creating the directories, an empty one for an empty set.
/// Existing files of the same names are replaced; other files are left alone.
/// Returns the number of files written.
fn write_outputs(dir: &Path, outputs: &Sets) -> anyhow::Result<usize> {
    let mut written = 0;
    for (set, items) in outputs {
        // Set names are identifiers of the composition, but check anyway.
        if !usable_file_name(set) {
            bail!("output set {set:?} cannot be a directory name under --out-dir");
        }
        let set_dir = dir.join(set);
        std::fs::create_dir_all(&set_dir)
            .with_context(|| format!("cannot create {}", set_dir.display()))?;
        let mut used = HashSet::new();
        for item in items {
            let path = set_dir.join(file_name_for(item, &mut used));
            std::fs::write(&path, &item.data)
                .with_context(|| format!("cannot write {}", path.display()))?;
            written += 1;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(items: &[Item]) -> Vec<String> {
        let mut used = HashSet::new();
        items.iter().map(|i| file_name_for(i, &mut used)).collect()
    }

    #[test]
    fn unusable_names_become_keys_and_collisions_get_suffixes() {
        let long = "x".repeat(MAX_FILE_NAME_BYTES + 1);
        let items = [
            Item::new("a", 1, ""),
            Item::new("a", 2, ""),
            Item::new("", 7, ""),
            Item::new(".", 7, ""),
            Item::new("..", 7, ""),
            Item::new("../etc/passwd", 8, ""),
            Item::new("nul\0byte", 9, ""),
            Item::new("7", 0, ""),
            Item::new(long, 10, ""),
            Item::new("é/", 11, ""),
        ];
        assert_eq!(
            names(&items),
            ["a", "a-1", "7", "7-1", "7-2", "8", "9", "7-3", "10", "11"]
        );
        // A name that looks like a suffixed one is taken as is if free.
        let items = [
            Item::new("a-1", 0, ""),
            Item::new("a", 0, ""),
            Item::new("a", 0, ""),
        ];
        assert_eq!(names(&items), ["a-1", "a", "a-2"]);
    }

    #[test]
    fn writes_every_item_and_empty_sets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut outputs = Sets::new();
        outputs.insert(
            "Out".into(),
            vec![
                Item::new("x", 0, "one"),
                Item::new("", 3, "two"),
                Item::new("x", 1, "three"),
            ],
        );
        outputs.insert("Empty".into(), Vec::new());
        assert_eq!(write_outputs(dir.path(), &outputs).ok(), Some(3));
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).ok();
        assert_eq!(read("Out/x").as_deref(), Some("one"));
        assert_eq!(read("Out/3").as_deref(), Some("two"));
        assert_eq!(read("Out/x-1").as_deref(), Some("three"));
        assert!(dir.path().join("Empty").is_dir());
        let mut bad = Sets::new();
        bad.insert("..".into(), vec![Item::new("x", 0, "")]);
        assert!(write_outputs(dir.path(), &bad).is_err());
    }
}
