//! The canonical printer.

use crate::ast;

/// Prints a file in canonical form.
pub fn print(file: &ast::File) -> String {
    let _ = file;
    String::new()
}
