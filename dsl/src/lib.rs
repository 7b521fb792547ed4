//! The Pappus composition language: from source text to checked, executable plans.
//!
//! A file declares functions (`function NAME (in, ...) => (out, ...);`) and defines
//! compositions, DAGs of applications over named sets of items. This crate
//! [`parse`]s a file into an [`ast::File`], [`check`]s it against the functions and
//! compositions an [`Env`] knows (plus the [`builtins`]), reports every problem at once
//! as [`Diagnostic`]s, and turns each composition into a [`Plan`]: nodes in
//! topological order with, for each set, its producer and consumers. Executing plans
//! is the engine's job; running functions is the isolation crate's; the builtins are
//! carried out by the I/O offload crate. The language reference is the crate's README.
//!
//! ```
//! use pappus_dsl::{check, parse, Env, Mode};
//!
//! let source = "
//!     function Split (text) => (words);
//!     composition Words (Text) => (Words) {
//!         Split (text = each Text) => (Words = words);
//!     }
//! ";
//! let file = parse(source).map_err(|d| d[0].render("words.pap", source)).unwrap();
//! let checked = check(&file, &Env::new());
//! assert!(!checked.has_errors());
//! let plan = &checked.plans[0];
//! assert_eq!(plan.name, "Words");
//! assert_eq!(plan.nodes[0].inputs[0].mode, Mode::Each);
//! ```
#![deny(missing_docs)]
#![warn(unreachable_pub)]

pub mod ast;
pub mod builtins;
mod check;
mod diagnostic;
mod parser;
mod plan;
mod print;

use std::collections::HashMap;
use std::sync::Arc;

pub use check::check;
pub use diagnostic::{Diagnostic, Severity, Span};
pub use parser::{parse, KEYWORDS};
pub use plan::{
    Callee, Join, JoinKind, Mode, Node, NodeId, NodeInput, NodeOutput, Plan, Producer, SetDef,
    SetId,
};
pub use print::print;

/// The parameter and output names of a function or composition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Signature {
    /// Input parameter names, in order.
    pub inputs: Vec<String>,
    /// Output names, in order.
    pub outputs: Vec<String>,
}

impl Signature {
    /// A signature from parameter and output names.
    pub fn new<I, O>(inputs: I, outputs: O) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
        O: IntoIterator,
        O::Item: Into<String>,
    {
        Signature {
            inputs: inputs.into_iter().map(Into::into).collect(),
            outputs: outputs.into_iter().map(Into::into).collect(),
        }
    }
}

/// What a file is checked against: registered functions and compositions, and the
/// [`builtins`] (always known).
///
/// Names declared in the file take precedence over registered ones, so a file may
/// re-declare a registered function or redefine a registered composition.
#[derive(Clone, Debug, Default)]
pub struct Env {
    functions: HashMap<String, Signature>,
    compositions: HashMap<String, Arc<Plan>>,
}

impl Env {
    /// An environment that knows only the builtins.
    pub fn new() -> Self {
        Env::default()
    }

    /// Registers a function (replacing any earlier one with that name).
    pub fn add_function(&mut self, name: impl Into<String>, signature: Signature) -> &mut Self {
        self.functions.insert(name.into(), signature);
        self
    }

    /// Registers a composition under [`Plan::name`] (replacing any earlier one).
    pub fn add_composition(&mut self, plan: Arc<Plan>) -> &mut Self {
        self.compositions.insert(plan.name.clone(), plan);
        self
    }

    /// The registered function called `name`.
    pub fn function(&self, name: &str) -> Option<&Signature> {
        self.functions.get(name)
    }

    /// The registered composition called `name`.
    pub fn composition(&self, name: &str) -> Option<&Arc<Plan>> {
        self.compositions.get(name)
    }
}

/// The result of [`check`].
#[derive(Clone, Debug, Default)]
pub struct Checked {
    /// Every error and warning, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// One plan per composition in the file, in file order; empty if there is any error.
    pub plans: Vec<Arc<Plan>>,
    /// The `function` declarations of the file, in file order.
    pub functions: Vec<(String, Signature)>,
}

impl Checked {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The plan of the composition called `name`.
    pub fn plan(&self, name: &str) -> Option<&Arc<Plan>> {
        self.plans.iter().find(|p| p.name == name)
    }
}
