//! The nom parser.

use crate::{ast, Diagnostic};

/// Parses a source file. On failure returns at least one error diagnostic.
pub fn parse(source: &str) -> Result<ast::File, Vec<Diagnostic>> {
    let _ = source;
    Ok(ast::File::default())
}
