//! Test data and the URIs that name it.

use std::path::Path;

/// Writes `data` at `path` under a server root, creating directories.
pub fn put_file(root: &Path, path: &str, data: &[u8]) {
    let p = root.join(path);
    if let Some(parent) = p.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if let Err(e) = std::fs::write(&p, data) {
        panic!("cannot write {}: {e}", p.display());
    }
}

/// Deterministic bytes that are not all alike (so a misplaced byte shows).
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A `file://` URI for a local path.
pub fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}
