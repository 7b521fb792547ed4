//! The parser: nom for the lexemes (words, punctuation, whitespace and comments),
//! plain sequential code for the structure so every failure names what was expected
//! and what was found. Lists are parsed with loops, never recursion, so input size
//! cannot overflow the stack.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while};
use nom::character::complete::{char, multispace1, not_line_ending, satisfy};
use nom::combinator::recognize;
use nom::multi::many0_count;
use nom::sequence::pair;
use nom::{IResult, Parser};

use crate::ast::{
    Application, Composition, File, FunctionDecl, Ident, InputBinding, Item, JoinClause,
    OutputBinding,
};
use crate::{Diagnostic, JoinKind, Mode, Span};

/// Words that cannot be used as identifiers (for tools that highlight or
/// generate the language).
pub const KEYWORDS: &[&str] = &[
    "function",
    "composition",
    "all",
    "each",
    "keyed",
    "optional",
    "by",
    "inner",
    "left",
    "right",
    "outer",
    "cross",
];

/// After this many syntax errors the parser stops reporting more.
const MAX_ERRORS: usize = 50;

/// Parses a source file into its syntax tree.
///
/// # Errors
/// Every syntax error found (at least one), each an error [`Diagnostic`] whose span
/// points at the unexpected token and whose message says what was expected instead.
/// The parser recovers at the next `;` inside a composition body, so several broken
/// applications are all reported; an error outside a body ends parsing.
pub fn parse(source: &str) -> Result<File, Vec<Diagnostic>> {
    let parser = P { src: source };
    let mut errors = Vec::new();
    let file = parser.file(source, &mut errors);
    if errors.is_empty() {
        Ok(file)
    } else {
        Err(errors)
    }
}

type PResult<'s, T> = Result<(&'s str, T), Diagnostic>;
type NomResult<'s> = IResult<&'s str, &'s str, ()>;

/// Skips whitespace and `#` comments.
fn ws(i: &str) -> &str {
    // Fast path: most tokens are followed directly by the next one.
    match i.as_bytes().first() {
        Some(b) if b.is_ascii_whitespace() || *b == b'#' => {}
        _ => return i,
    }
    let comment = recognize(pair(char('#'), not_line_ending));
    match many0_count(alt((multispace1::<&str, ()>, comment))).parse(i) {
        Ok((rest, _)) => rest,
        Err(_) => i,
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`
fn word(i: &str) -> NomResult<'_> {
    recognize(pair(
        satisfy(|c| c.is_ascii_alphabetic() || c == '_'),
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '_'),
    ))
    .parse(i)
}

struct P<'s> {
    src: &'s str,
}

impl<'s> P<'s> {
    fn off(&self, i: &str) -> usize {
        self.src.len() - i.len()
    }

    /// The span and description of the token at `i` (already past whitespace).
    fn found(&self, i: &'s str) -> (Span, String) {
        let start = self.off(i);
        if i.is_empty() {
            return (Span::new(start, start), "end of input".to_string());
        }
        if let Ok((_, w)) = word(i) {
            let what = if KEYWORDS.contains(&w) {
                format!("keyword `{w}`")
            } else {
                format!("`{w}`")
            };
            return (Span::new(start, start + w.len()), what);
        }
        if i.starts_with("=>") {
            return (Span::new(start, start + 2), "`=>`".to_string());
        }
        let c = i.chars().next().unwrap_or(' ');
        let what = if c.is_control() || c.is_whitespace() {
            format!("character {c:?}")
        } else {
            format!("`{c}`")
        };
        (Span::new(start, start + c.len_utf8()), what)
    }

    fn expected(&self, i: &'s str, what: &str) -> Diagnostic {
        let (span, found) = self.found(i);
        Diagnostic::error(span, format!("expected {what}, found {found}"))
    }

    /// Punctuation `p` after optional whitespace.
    fn punct(&self, i: &'s str, p: &'static str) -> PResult<'s, Span> {
        let i = ws(i);
        let start = self.off(i);
        let res: NomResult<'s> = tag(p).parse(i);
        match res {
            // `=` must not be the start of `=>`.
            Ok((rest, _)) if !(p == "=" && rest.starts_with('>')) => {
                Ok((rest, Span::new(start, start + p.len())))
            }
            _ => Err(self.expected(i, &format!("`{p}`"))),
        }
    }

    fn peek_punct(&self, i: &'s str, p: &str) -> bool {
        let i = ws(i);
        i.starts_with(p) && !(p == "=" && i.starts_with("=>"))
    }

    /// The next word (identifier or keyword) without consuming it.
    fn peek_word(&self, i: &'s str) -> Option<&'s str> {
        word(ws(i)).ok().map(|(_, w)| w)
    }

    fn keyword(&self, i: &'s str, kw: &'static str) -> PResult<'s, Span> {
        let i = ws(i);
        let start = self.off(i);
        match word(i) {
            Ok((rest, w)) if w == kw => Ok((rest, Span::new(start, start + w.len()))),
            _ => Err(self.expected(i, &format!("`{kw}`"))),
        }
    }

    fn ident(&self, i: &'s str, what: &str) -> PResult<'s, Ident> {
        let i = ws(i);
        let start = self.off(i);
        match word(i) {
            Ok((rest, w)) if !KEYWORDS.contains(&w) => {
                Ok((rest, Ident::new(w, Span::new(start, start + w.len()))))
            }
            _ => Err(self.expected(i, what)),
        }
    }

    /// `(` [elem {`,` elem} [`,`]] `)`
    fn list<T>(
        &self,
        i: &'s str,
        what: &str,
        mut elem: impl FnMut(&Self, &'s str) -> PResult<'s, T>,
    ) -> PResult<'s, (Vec<T>, Span)> {
        let (mut i, open) = self.punct(i, "(")?;
        let mut items = Vec::new();
        loop {
            if self.peek_punct(i, ")") {
                break;
            }
            let (rest, item) = elem(self, i)?;
            items.push(item);
            i = rest;
            if self.peek_punct(i, ",") {
                i = self.punct(i, ",")?.0;
            } else if !self.peek_punct(i, ")") {
                return Err(self.expected(ws(i), &format!("`,` or `)` after {what}")));
            }
        }
        let (i, close) = self.punct(i, ")")?;
        Ok((i, (items, open.to(close))))
    }

    fn names(&self, i: &'s str, what: &'static str) -> PResult<'s, Vec<Ident>> {
        let (i, (names, _)) = self.list(i, what, |p, i| p.ident(i, what))?;
        Ok((i, names))
    }

    fn file(&self, mut i: &'s str, errors: &mut Vec<Diagnostic>) -> File {
        let mut items = Vec::new();
        loop {
            i = ws(i);
            if i.is_empty() {
                break;
            }
            let res = match self.peek_word(i) {
                Some("function") => self.function(i).map(|(r, f)| (r, Item::Function(f))),
                Some("composition") => self
                    .composition(i, errors)
                    .map(|(r, c)| (r, Item::Composition(c))),
                _ => Err(self.expected(i, "`function` or `composition`")),
            };
            match res {
                Ok((rest, item)) => {
                    items.push(item);
                    i = rest;
                }
                Err(e) => {
                    errors.push(e);
                    break;
                }
            }
        }
        File { items }
    }

    fn function(&self, i: &'s str) -> PResult<'s, FunctionDecl> {
        let (i, kw) = self.keyword(i, "function")?;
        let (i, name) = self.ident(i, "a function name")?;
        let (i, inputs) = self.names(i, "a parameter name")?;
        let (i, _) = self.punct(i, "=>")?;
        let (i, outputs) = self.names(i, "an output name")?;
        let (i, semi) = self.punct(i, ";")?;
        let span = kw.to(semi);
        Ok((
            i,
            FunctionDecl {
                name,
                inputs,
                outputs,
                span,
            },
        ))
    }

    fn composition(&self, i: &'s str, errors: &mut Vec<Diagnostic>) -> PResult<'s, Composition> {
        let (i, kw) = self.keyword(i, "composition")?;
        let (i, name) = self.ident(i, "a composition name")?;
        let (i, inputs) = self.names(i, "an input set name")?;
        let (i, _) = self.punct(i, "=>")?;
        let (i, outputs) = self.names(i, "an output set name")?;
        let (mut i, _) = self.punct(i, "{")?;
        // A capacity hint (each application ends with `;`) avoids regrowing a large
        // vector of large nodes; bounded by the input size, so junk cannot inflate it.
        let region = i.find('}').map_or(i, |end| &i[..end]);
        let hint = region
            .bytes()
            .filter(|&b| b == b';')
            .count()
            .min(region.len() / 8);
        let mut body = Vec::with_capacity(hint);
        loop {
            i = ws(i);
            if i.starts_with('}') {
                break;
            }
            if i.is_empty() {
                return Err(self.expected(i, "an application or `}`"));
            }
            match self.application(i) {
                Ok((rest, app)) => {
                    body.push(app);
                    i = rest;
                }
                Err(e) => {
                    if errors.len() >= MAX_ERRORS {
                        return Err(e.with_note("too many syntax errors; giving up"));
                    }
                    errors.push(e);
                    i = self.recover(i);
                }
            }
        }
        let (i, close) = self.punct(i, "}")?;
        Ok((
            i,
            Composition {
                name,
                inputs,
                outputs,
                body,
                span: kw.to(close),
            },
        ))
    }

    /// Skips to just after the next `;`, or to the next `}` or the end of input.
    /// Always makes progress unless already at `}` or the end.
    fn recover(&self, mut i: &'s str) -> &'s str {
        loop {
            i = ws(i);
            if i.is_empty() || i.starts_with('}') {
                return i;
            }
            if let Some(rest) = i.strip_prefix(';') {
                return rest;
            }
            i = match word(i) {
                Ok((rest, _)) => rest,
                Err(_) => {
                    let mut chars = i.chars();
                    chars.next();
                    chars.as_str()
                }
            };
        }
    }

    fn application(&self, i: &'s str) -> PResult<'s, Application> {
        let (i, callee) = self.ident(i, "an application (a function name)")?;
        let (i, (inputs, _)) = self.list(i, "an input binding", Self::input_binding)?;
        let (i, _) = self.punct(i, "=>")?;
        let (i, (outputs, _)) = self.list(i, "an output binding", Self::output_binding)?;
        let (i, join) = if self.peek_word(i) == Some("by") {
            let (i, join) = self.join(i)?;
            (i, Some(join))
        } else {
            (i, None)
        };
        // A contextual keyword, like `named`: nothing else may stand here, so
        // `catch` stays usable as a name everywhere else.
        let (i, catch) = if self.peek_word(i) == Some("catch") {
            let (i, _) = self.keyword(i, "catch")?;
            let (i, set) = self.ident(i, "a set name (the set of failed shards)")?;
            (i, Some(set))
        } else {
            (i, None)
        };
        let (i, semi) = self.punct(i, ";").map_err(|_| {
            let what = match (&join, &catch) {
                (_, Some(_)) => "`;`",
                (Some(_), None) => {
                    "`;`, `catch` or a join (`inner`, `left`, `right`, `outer`, `cross`)"
                }
                (None, None) => "`;`, `by` or `catch`",
            };
            self.expected(ws(i), what)
        })?;
        let span = callee.span.to(semi);
        Ok((
            i,
            Application {
                callee,
                inputs,
                outputs,
                join,
                catch,
                span,
            },
        ))
    }

    fn input_binding(&self, i: &'s str) -> PResult<'s, InputBinding> {
        let (i, param) = self.ident(i, "a parameter name")?;
        let (i, _) = self.punct(i, "=")?;
        let (i, optional) = if self.peek_word(i) == Some("optional") {
            (self.keyword(i, "optional")?.0, true)
        } else {
            (i, false)
        };
        let i = ws(i);
        let mode = match self.peek_word(i) {
            Some("all") => Mode::All,
            Some("each") => Mode::Each,
            Some("keyed") => Mode::Keyed,
            // A contextual keyword: only a mode here, so `named` stays usable as
            // a name (it is not in KEYWORDS, and existing files keep parsing).
            Some("named") => Mode::Named,
            _ => {
                let what = if optional {
                    "`all`, `each`, `keyed` or `named`"
                } else {
                    "`optional`, `all`, `each`, `keyed` or `named`"
                };
                return Err(self.expected(i, what));
            }
        };
        let (i, _) = self.keyword(i, mode.keyword())?;
        let (i, set) = self.ident(i, "a set name")?;
        let span = param.span.to(set.span);
        Ok((
            i,
            InputBinding {
                param,
                optional,
                mode,
                set,
                span,
            },
        ))
    }

    fn output_binding(&self, i: &'s str) -> PResult<'s, OutputBinding> {
        let (i, set) = self.ident(i, "a set name")?;
        let (i, _) = self.punct(i, "=")?;
        let (i, output) = self.ident(i, "an output name")?;
        let span = set.span.to(output.span);
        Ok((i, OutputBinding { set, output, span }))
    }

    fn join_kind(word: &str) -> Option<JoinKind> {
        Some(match word {
            "inner" => JoinKind::Inner,
            "left" => JoinKind::Left,
            "right" => JoinKind::Right,
            "outer" => JoinKind::Outer,
            "cross" => JoinKind::Cross,
            _ => return None,
        })
    }

    fn join(&self, i: &'s str) -> PResult<'s, JoinClause> {
        let (i, by) = self.keyword(i, "by")?;
        let (mut i, first) = self.ident(i, "a set name")?;
        let mut rest = Vec::new();
        while let Some(kind) = self.peek_word(i).and_then(Self::join_kind) {
            let (r, _) = self.keyword(i, kind.keyword())?;
            let (r, set) = self.ident(r, "a set name")?;
            rest.push((kind, set));
            i = r;
        }
        let Some(last) = rest.last().map(|(_, s)| s.span) else {
            return Err(self.expected(ws(i), "a join (`inner`, `left`, `right`, `outer`, `cross`)"));
        };
        Ok((
            i,
            JoinClause {
                first,
                rest,
                span: by.to(last),
            },
        ))
    }
}
