//! Byte spans and diagnostics (errors and warnings) with source rendering.

use std::fmt;

/// A half-open range of byte offsets `start..end` into the source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// Creates the span `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// How serious a [`Diagnostic`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The file is rejected; no plans are produced.
    Error,
    /// Suspicious but accepted (for example an output nobody reads).
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// An error or warning about a span of the source, produced by [`parse`](crate::parse)
/// or [`check`](crate::check).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// One lowercase sentence without a trailing period.
    pub message: String,
    /// The offending part of the source.
    pub span: Span,
    /// Extra explanations, each rendered as a `= note:` line.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            notes: Vec::new(),
        }
    }

    /// A warning at `span`.
    pub fn warning(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            message: message.into(),
            span,
            notes: Vec::new(),
        }
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Whether this is an error (as opposed to a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The 1-based line and column (in characters) of the start of the span in `source`.
    ///
    /// Offsets past the end of `source` are clamped to its end, and offsets inside a
    /// multi-byte character count as that character; this never panics.
    pub fn line_col(&self, source: &str) -> (usize, usize) {
        let start = floor_char_boundary(source, self.span.start);
        let before = &source[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = source[line_start..start].chars().count() + 1;
        (line, col)
    }

    /// Renders the diagnostic for a terminal or a log:
    ///
    /// ```text
    /// error: unknown function `Foo`
    ///  --> app.pap:3:5
    ///   |
    /// 3 |     Foo (x = all X) => (Y = y);
    ///   |     ^^^
    ///   = note: ...
    /// ```
    ///
    /// The caret covers the span up to the end of its first line (at least one
    /// character). Never panics, whatever the span.
    pub fn render(&self, file_name: &str, source: &str) -> String {
        let (line, col) = self.line_col(source);
        let start = floor_char_boundary(source, self.span.start);
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let text = source[line_start..line_end].trim_end_matches('\r');
        let end = floor_char_boundary(source, self.span.end.max(start)).min(line_end);
        let width = source[start..end].chars().count().max(1);
        let number = line.to_string();
        let pad = " ".repeat(number.len());
        // Tabs before the caret are kept so the caret lines up with the source line.
        let lead: String = text
            .chars()
            .take(col - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let mut out = format!(
            "{}: {}\n{pad}--> {file_name}:{line}:{col}\n{pad} |\n{number} | {text}\n{pad} | {lead}{}\n",
            self.severity,
            self.message,
            "^".repeat(width)
        );
        for note in &self.notes {
            out.push_str(&format!("{pad} = note: {note}\n"));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (bytes {}..{})",
            self.severity, self.message, self.span.start, self.span.end
        )
    }
}

/// The largest char boundary of `s` that is `<= offset` (clamped to `s.len()`).
fn floor_char_boundary(s: &str, offset: usize) -> usize {
    let mut i = offset.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
