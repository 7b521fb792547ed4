//! The sets pass: every set a composition writes, each assigned exactly once.

use super::{Checker, HashMap};
use crate::ast::{Composition, Ident};

/// How a composition set is written.
#[derive(Clone, Copy)]
pub(super) enum Writer {
    Input(usize),
    App(usize),
}

pub(super) struct SetInfo<'a> {
    pub(super) name: &'a str,
    pub(super) writer: Writer,
    /// The identifier that defines the set.
    pub(super) def: &'a Ident,
    pub(super) read: bool,
}

/// A composition's sets in definition order (inputs, then application outputs),
/// with an index by name.
pub(super) struct CompositionSets<'a> {
    pub(super) sets: Vec<SetInfo<'a>>,
    pub(super) by_name: HashMap<&'a str, usize>,
}

impl<'a> CompositionSets<'a> {
    /// The index of the set called `name`, if the composition writes one.
    pub(super) fn get(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    fn push(&mut self, name: &'a Ident, writer: Writer) {
        self.by_name.insert(&name.name, self.sets.len());
        self.sets.push(SetInfo {
            name: &name.name,
            writer,
            def: name,
            read: false,
        });
    }
}

impl<'a> Checker<'a> {
    /// The sets written by the composition's inputs and by every application,
    /// reporting sets assigned twice (the first assignment is kept).
    pub(super) fn composition_sets(&mut self, comp: &'a Composition) -> CompositionSets<'a> {
        // Sized up front: growing large vectors and tables is a measurable part of
        // checking big files.
        let produced: usize = comp
            .body
            .iter()
            .map(|a| a.outputs.len() + usize::from(a.catch.is_some()))
            .sum();
        let capacity = comp.inputs.len() + produced;
        let mut sets = CompositionSets {
            sets: Vec::with_capacity(capacity),
            by_name: HashMap::with_capacity_and_hasher(capacity, Default::default()),
        };
        for (i, id) in comp.inputs.iter().enumerate() {
            if sets.get(&id.name).is_some() {
                continue; // reported as a duplicate input
            }
            sets.push(id, Writer::Input(i));
        }
        for (a, app) in comp.body.iter().enumerate() {
            // The `catch` set is written by its application like an output.
            let written = app.outputs.iter().map(|o| &o.set).chain(&app.catch);
            for set in written {
                if let Some(first) = sets.get(&set.name) {
                    let note = match sets.sets[first].writer {
                        Writer::Input(_) => {
                            format!("`{}` is an input of `{}`", set.name, comp.name.name)
                        }
                        Writer::App(fa) => format!(
                            "it is first assigned by the application of `{}`",
                            comp.body[fa].callee.name
                        ),
                    };
                    self.error(set.span, format!("set `{}` is assigned twice", set.name))
                        .notes
                        .push(note);
                    continue;
                }
                sets.push(set, Writer::App(a));
            }
        }
        sets
    }
}
