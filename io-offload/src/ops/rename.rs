//! `renameat` a path over another.

use std::io;
use std::path::Path;
use std::rc::Rc;
use std::time::Instant;

use crate::ring::{Driver, OpKind};

/// Renames `from` to `to`, atomically replacing `to` if it exists.
pub(crate) async fn rename(
    driver: &Rc<Driver>,
    from: &Path,
    to: &Path,
    deadline: Option<Instant>,
) -> io::Result<()> {
    let kind = OpKind::Rename {
        from: super::c_path(from)?,
        to: super::c_path(to)?,
    };
    let (res, _) = driver.submit(kind, deadline).await;
    super::check(res).map(|_| ())
}
