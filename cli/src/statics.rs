//! Reading a function's static sets from the paths `pappus.toml` gives
//! (`static = { SET = "path" }`): a file is one item named by its file name,
//! a folder one item per file below it, named by its path relative to the
//! folder (`/`-separated). `pappus run` registers them with the function;
//! `pappus deploy` uploads them with it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use pappus_engine::{Item, StaticSet};

/// Reads the static sets of function `function`, in set-name order.
///
/// # Errors
/// A path that does not exist or cannot be read (the message names the
/// function, the set and the path), a name that is not UTF-8, or a link to a
/// folder inside a folder (not followed).
pub(crate) fn load(
    function: &str,
    paths: &BTreeMap<String, PathBuf>,
) -> anyhow::Result<Vec<StaticSet>> {
    let mut sets = Vec::with_capacity(paths.len());
    for (set, path) in paths {
        let context = || format!("function `{function}`, static set `{set}`");
        let meta = std::fs::metadata(path)
            .with_context(|| format!("{}: cannot read {}", context(), path.display()))?;
        let mut items = Vec::new();
        if meta.is_dir() {
            walk(path, path, &mut items).with_context(context)?;
        } else {
            let name = path.file_name().and_then(|n| n.to_str()).with_context(|| {
                format!("{}: {} has no UTF-8 file name", context(), path.display())
            })?;
            let data = std::fs::read(path)
                .with_context(|| format!("{}: cannot read {}", context(), path.display()))?;
            items.push(Item::new(name, 0, data));
        }
        sets.push(StaticSet {
            name: set.clone(),
            items,
        });
    }
    Ok(sets)
}

/// Adds every file below `dir` (depth first, in name order) as an item named
/// by its path relative to `root`.
fn walk(root: &Path, dir: &Path, items: &mut Vec<Item>) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot list {}", dir.display()))?;
    entries.sort();
    for path in entries {
        let meta =
            std::fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            if std::fs::symlink_metadata(&path)?.file_type().is_symlink() {
                bail!(
                    "{} links to a folder, which is not followed",
                    path.display()
                );
            }
            walk(root, &path, items)?;
            continue;
        }
        let relative = path.strip_prefix(root).unwrap_or(&path);
        let segments: Option<Vec<&str>> = relative.iter().map(|s| s.to_str()).collect();
        let Some(segments) = segments else {
            bail!("{} has a name that is not UTF-8", path.display());
        };
        let data =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        items.push(Item::new(segments.join("/"), 0, data));
    }
    Ok(())
}
