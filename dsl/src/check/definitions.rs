//! The definitions pass: what the file defines, before any body is read.

use super::{list, signature, Checker, HashMap};
use crate::ast::{Ident, Item};
use crate::builtins::Builtin;

impl<'a> Checker<'a> {
    /// Duplicate definitions, builtin shadowing and duplicate names in signatures;
    /// records the file's functions and compositions (first definition wins).
    pub(super) fn definitions(&mut self) {
        let file = self.file;
        let mut seen: HashMap<&str, &str> = HashMap::default();
        let mut comp_index = 0;
        for item in &file.items {
            let (name, kind, inputs, outputs) = match item {
                Item::Function(f) => (&f.name, "function", &f.inputs, &f.outputs),
                Item::Composition(c) => (&c.name, "composition", &c.inputs, &c.outputs),
            };
            self.builtin_shadowed(name, kind);
            if let Some(first) = seen.get(name.name.as_str()) {
                self.error(name.span, format!("`{}` is defined twice", name.name))
                    .notes
                    .push(format!("it was first defined as a {first}"));
            } else {
                seen.insert(&name.name, kind);
                match item {
                    Item::Function(f) => {
                        self.functions
                            .insert(&f.name.name, signature(&f.inputs, &f.outputs));
                    }
                    Item::Composition(c) => {
                        self.compositions.insert(&c.name.name, comp_index);
                    }
                }
            }
            if let Item::Composition(_) = item {
                comp_index += 1;
            }
            let what = if kind == "function" {
                ["parameter", "output"]
            } else {
                ["input", "output"]
            };
            self.declared_twice(name, inputs, what[0]);
            self.declared_twice(name, outputs, what[1]);
        }
    }

    /// A function or composition named after a builtin.
    fn builtin_shadowed(&mut self, name: &Ident, kind: &str) {
        let Some(b) = Builtin::from_name(&name.name) else {
            return;
        };
        let sig = b.signature();
        self.error(
            name.span,
            format!("{kind} `{}` shadows the builtin of that name", name.name),
        )
        .notes
        .push(format!(
            "the builtin is `{b} {} => {}`; choose another name",
            list(&sig.inputs),
            list(&sig.outputs)
        ));
    }

    /// Names repeated in one side of `owner`'s signature, reported once per name.
    fn declared_twice(&mut self, owner: &Ident, ids: &[Ident], what: &str) {
        // name -> whether a repetition was already reported
        let mut names: HashMap<&str, bool> = HashMap::default();
        for id in ids {
            let first = !names.contains_key(id.name.as_str());
            let reported = names.entry(&id.name).or_insert(false);
            if !first && !std::mem::replace(reported, true) {
                self.error(
                    id.span,
                    format!("{what} `{}` of `{}` is declared twice", id.name, owner.name),
                );
            }
        }
    }
}
