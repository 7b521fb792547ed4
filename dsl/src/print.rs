//! The canonical printer: one item per paragraph, one application per line.

use std::fmt::Write;

use crate::ast::{Application, File, Ident, Item};

/// Prints a file in canonical form: items separated by a blank line, applications
/// indented by four spaces, single spaces around `=>` and `=`, no trailing commas.
///
/// `parse(&print(&file))` is [`same_as`](File::same_as) `file` for any file the parser
/// produced (comments are not kept in the syntax tree, so they are not printed).
pub fn print(file: &File) -> String {
    let mut out = String::new();
    for (n, item) in file.items.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        match item {
            Item::Function(f) => {
                signature(&mut out, "function", &f.name, &f.inputs, &f.outputs);
                out.push_str(";\n");
            }
            Item::Composition(c) => {
                signature(&mut out, "composition", &c.name, &c.inputs, &c.outputs);
                out.push_str(" {\n");
                for app in &c.body {
                    out.push_str("    ");
                    application(&mut out, app);
                    out.push('\n');
                }
                out.push_str("}\n");
            }
        }
    }
    out
}

/// `keyword name (inputs) => (outputs)`, the head of a function or composition.
fn signature(out: &mut String, keyword: &str, name: &Ident, inputs: &[Ident], outputs: &[Ident]) {
    let _ = write!(
        out,
        "{keyword} {} ({}) => ({})",
        name.name,
        names(inputs),
        names(outputs)
    );
}

fn names(ids: &[Ident]) -> String {
    let mut s = String::new();
    for (n, id) in ids.iter().enumerate() {
        if n > 0 {
            s.push_str(", ");
        }
        s.push_str(&id.name);
    }
    s
}

fn application(out: &mut String, app: &Application) {
    let _ = write!(out, "{} (", app.callee.name);
    for (n, b) in app.inputs.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        let optional = if b.optional { "optional " } else { "" };
        let _ = write!(
            out,
            "{} = {optional}{} {}",
            b.param.name,
            b.mode.keyword(),
            b.set.name
        );
    }
    out.push_str(") => (");
    for (n, b) in app.outputs.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{} = {}", b.set.name, b.output.name);
    }
    out.push(')');
    if let Some(join) = &app.join {
        let _ = write!(out, " by {}", join.first.name);
        for (kind, set) in &join.rest {
            let _ = write!(out, " {} {}", kind.keyword(), set.name);
        }
    }
    if let Some(catch) = &app.catch {
        let _ = write!(out, " catch {}", catch.name);
    }
    out.push(';');
}
