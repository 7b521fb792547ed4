//! `unlinkat` a file.

use std::io;
use std::path::Path;
use std::rc::Rc;
use std::time::Instant;

use crate::ring::{Driver, OpKind};

/// Removes the file `path`.
pub(crate) async fn unlink(
    driver: &Rc<Driver>,
    path: &Path,
    deadline: Option<Instant>,
) -> io::Result<()> {
    let kind = OpKind::Unlink {
        path: super::c_path(path)?,
    };
    let (res, _) = driver.submit(kind, deadline).await;
    super::check(res).map(|_| ())
}
