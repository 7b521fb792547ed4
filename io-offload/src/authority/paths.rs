//! Which local paths an [`Authority`](crate::Authority) may name, judged on the
//! path's text; what the path resolves to is checked after opening (`file.rs`).

use std::path::{Component, Path, PathBuf};

/// Paths no principal can name: kernel interfaces whose files leak the
/// process's secrets (`/proc/self/environ`) or are devices.
pub(crate) const ALWAYS_DENIED: [&str; 3] = ["/proc", "/sys", "/dev"];

/// Where paths may be opened.
#[derive(Clone, Debug)]
pub(crate) enum Roots {
    /// Anywhere the process can reach (the local user's authority).
    Anywhere,
    /// Only beneath one of these directories.
    Beneath(Vec<PathBuf>),
}

/// Denied path prefixes: as written and, when they exist, canonicalised (so a
/// denied directory reached through a symlink is still recognised).
#[derive(Clone, Debug, Default)]
pub(crate) struct Denied(Vec<PathBuf>);

impl Denied {
    pub(crate) fn new(extra: &[PathBuf]) -> Result<Denied, String> {
        let mut all = Vec::new();
        for p in ALWAYS_DENIED
            .iter()
            .map(PathBuf::from)
            .chain(extra.iter().cloned())
        {
            let p = absolute_clean(&p)
                .ok_or_else(|| format!("denied path {p:?} must be absolute and free of `..`"))?;
            if let Ok(real) = std::fs::canonicalize(&p) {
                if real != p {
                    all.push(real);
                }
            }
            all.push(p);
        }
        Ok(Denied(all))
    }

    /// The denied prefix `path` lies beneath (or is), if any.
    pub(crate) fn covering(&self, path: &Path) -> Option<&Path> {
        self.0
            .iter()
            .find(|d| path.starts_with(d))
            .map(PathBuf::as_path)
    }
}

/// `path` if it is absolute with no `..` component, with `.` components and
/// repeated separators dropped.
pub(crate) fn absolute_clean(path: &Path) -> Option<PathBuf> {
    if !path.is_absolute() {
        return None;
    }
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(n) => out.push(n),
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

impl Roots {
    pub(crate) fn new(roots: &[PathBuf]) -> Result<Roots, String> {
        roots
            .iter()
            .map(|r| {
                absolute_clean(r)
                    .ok_or_else(|| format!("file root {r:?} must be absolute and free of `..`"))
            })
            .collect::<Result<_, _>>()
            .map(Roots::Beneath)
    }

    /// The root `path` lies beneath and the path relative to it, or `None` when
    /// no root contains it. `Anywhere` answers `/` and the path without its
    /// leading `/`.
    pub(crate) fn locate(&self, path: &Path) -> Option<(PathBuf, PathBuf)> {
        let roots: &[PathBuf] = match self {
            Roots::Anywhere => &[],
            Roots::Beneath(roots) => roots,
        };
        if matches!(self, Roots::Anywhere) {
            let rel = path.strip_prefix("/").ok()?.to_path_buf();
            return Some((PathBuf::from("/"), rel));
        }
        roots
            .iter()
            .filter_map(|root| Some((root.clone(), path.strip_prefix(root).ok()?.to_path_buf())))
            .max_by_key(|(root, _)| root.as_os_str().len())
    }
}
