//! The syntax tree produced by [`parse`](crate::parse). Every node carries its [`Span`].
//!
//! The derived `PartialEq` compares spans too; use [`File::same_as`] (or
//! [`File::without_spans`]) to compare trees modulo spans, for example a parsed file
//! with the re-parse of its printed form.

use crate::{JoinKind, Mode, Span};

/// A name as written in the source.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    /// The identifier text, `[A-Za-z_][A-Za-z0-9_]*`, never a keyword.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

impl Ident {
    /// An identifier with the given name and span.
    pub fn new(name: impl Into<String>, span: Span) -> Self {
        Ident {
            name: name.into(),
            span,
        }
    }
}

/// A whole source file: declarations and compositions in source order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct File {
    /// The top-level items in source order.
    pub items: Vec<Item>,
}

/// A top-level item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// `function NAME (in, ...) => (out, ...);`
    Function(FunctionDecl),
    /// `composition NAME (in, ...) => (out, ...) { ... }`
    Composition(Composition),
}

impl Item {
    /// The declared or defined name.
    pub fn name(&self) -> &Ident {
        match self {
            Item::Function(f) => &f.name,
            Item::Composition(c) => &c.name,
        }
    }
}

/// The declaration of a function's signature (its input and output set names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionDecl {
    /// The function name.
    pub name: Ident,
    /// Input parameter names, in order.
    pub inputs: Vec<Ident>,
    /// Output names, in order.
    pub outputs: Vec<Ident>,
    /// From `function` to the closing `;`.
    pub span: Span,
}

/// A composition: a signature plus the applications that compute its outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Composition {
    /// The composition name.
    pub name: Ident,
    /// Input set names, in order.
    pub inputs: Vec<Ident>,
    /// Output set names, in order.
    pub outputs: Vec<Ident>,
    /// The applications in source order.
    pub body: Vec<Application>,
    /// From `composition` to the closing `}`.
    pub span: Span,
}

/// One application: `F (param = MODE SET, ...) => (SET = out, ...) [by A JOIN B ...] [catch SET];`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Application {
    /// The function, builtin or composition applied.
    pub callee: Ident,
    /// The input bindings in source order.
    pub inputs: Vec<InputBinding>,
    /// The output bindings in source order.
    pub outputs: Vec<OutputBinding>,
    /// The `by` clause, if any.
    pub join: Option<JoinClause>,
    /// The `catch SET` clause, if any: the set that receives one item per
    /// failed shard, instead of the failure failing the invocation.
    pub catch: Option<Ident>,
    /// From the callee to the closing `;`.
    pub span: Span,
}

/// `param = [optional] MODE SET`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputBinding {
    /// The callee's parameter name.
    pub param: Ident,
    /// Whether the application still runs when the set is empty.
    pub optional: bool,
    /// How the set is sharded over instances.
    pub mode: Mode,
    /// The composition set read.
    pub set: Ident,
    /// The whole binding.
    pub span: Span,
}

/// `SET = out`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputBinding {
    /// The composition set written.
    pub set: Ident,
    /// The callee's output name.
    pub output: Ident,
    /// The whole binding.
    pub span: Span,
}

/// `by A JOIN B [JOIN C ...]`, left-associative, over composition set names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinClause {
    /// The first set.
    pub first: Ident,
    /// The following joins with their sets.
    pub rest: Vec<(JoinKind, Ident)>,
    /// From `by` to the last set.
    pub span: Span,
}

impl JoinClause {
    /// All set names in the clause, in order.
    pub fn sets(&self) -> impl Iterator<Item = &Ident> {
        std::iter::once(&self.first).chain(self.rest.iter().map(|(_, s)| s))
    }
}

impl File {
    /// A copy with every span set to `0..0`.
    pub fn without_spans(&self) -> File {
        let mut file = self.clone();
        file.clear_spans();
        file
    }

    /// Equality ignoring spans: `parse(&print(&f))` is `same_as` `f`.
    pub fn same_as(&self, other: &File) -> bool {
        self.without_spans() == other.without_spans()
    }

    fn clear_spans(&mut self) {
        let clear = |ids: &mut Vec<Ident>| ids.iter_mut().for_each(|i| i.span = Span::default());
        for item in &mut self.items {
            match item {
                Item::Function(f) => {
                    f.span = Span::default();
                    f.name.span = Span::default();
                    clear(&mut f.inputs);
                    clear(&mut f.outputs);
                }
                Item::Composition(c) => {
                    c.span = Span::default();
                    c.name.span = Span::default();
                    clear(&mut c.inputs);
                    clear(&mut c.outputs);
                    for app in &mut c.body {
                        app.span = Span::default();
                        app.callee.span = Span::default();
                        for b in &mut app.inputs {
                            b.span = Span::default();
                            b.param.span = Span::default();
                            b.set.span = Span::default();
                        }
                        for b in &mut app.outputs {
                            b.span = Span::default();
                            b.set.span = Span::default();
                            b.output.span = Span::default();
                        }
                        if let Some(c) = &mut app.catch {
                            c.span = Span::default();
                        }
                        if let Some(j) = &mut app.join {
                            j.span = Span::default();
                            j.first.span = Span::default();
                            j.rest
                                .iter_mut()
                                .for_each(|(_, s)| s.span = Span::default());
                        }
                    }
                }
            }
        }
    }
}
