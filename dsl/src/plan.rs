//! The checked, immutable DAG of one composition, ready for execution.

use crate::{builtins::Builtin, Span};

/// Index of a set in [`Plan::sets`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SetId(pub usize);

/// Index of a node in [`Plan::nodes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub usize);

/// One composition as a DAG: nodes are applications, edges are sets.
///
/// Invariants (established by [`check`](crate::check)): every set has exactly one
/// producer; every node input reads a set; [`order`](Plan::order) lists every node once,
/// each after the producers of all its inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The composition name.
    pub name: String,
    /// Input set names in signature order.
    pub inputs: Vec<String>,
    /// Output set names in signature order.
    pub outputs: Vec<String>,
    /// Every set of the composition: its inputs first (in signature order), then the
    /// sets produced by applications in source order.
    pub sets: Vec<SetDef>,
    /// One node per application, in source order.
    pub nodes: Vec<Node>,
    /// A topological order of the nodes (ties broken by source order).
    pub order: Vec<NodeId>,
    /// The sets holding the composition inputs, in signature order.
    pub input_sets: Vec<SetId>,
    /// The sets holding the composition outputs, in signature order.
    pub output_sets: Vec<SetId>,
}

impl Plan {
    /// The set with the given id.
    ///
    /// # Panics
    /// If `id` does not belong to this plan.
    pub fn set(&self, id: SetId) -> &SetDef {
        &self.sets[id.0]
    }

    /// The node with the given id.
    ///
    /// # Panics
    /// If `id` does not belong to this plan.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0]
    }

    /// The id of the set called `name`, if any.
    pub fn set_id(&self, name: &str) -> Option<SetId> {
        self.sets.iter().position(|s| s.name == name).map(SetId)
    }

    /// The composition's signature, as seen by callers.
    pub fn signature(&self) -> crate::Signature {
        crate::Signature {
            inputs: self.inputs.clone(),
            outputs: self.outputs.clone(),
        }
    }
}

/// A composition set: its producer and its readers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetDef {
    /// The set name.
    pub name: String,
    /// Who writes it (exactly one producer).
    pub producer: Producer,
    /// Who reads it: (node, index into that node's [`Node::inputs`]), in source order.
    pub consumers: Vec<(NodeId, usize)>,
}

/// The single writer of a set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Producer {
    /// The composition input with this index (signature order).
    Input(usize),
    /// An output of a node: index into that node's [`Node::outputs`].
    Node {
        /// The producing node.
        node: NodeId,
        /// Index into the node's bound outputs.
        output: usize,
    },
    /// The failures of a node's shards: its [`Node::catch`] set.
    Catch(NodeId),
}

/// One application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// What is called.
    pub callee: Callee,
    /// Every callee parameter, in callee signature order (all are bound).
    pub inputs: Vec<NodeInput>,
    /// The outputs the application binds, in callee signature order.
    pub outputs: Vec<NodeOutput>,
    /// How keyed inputs are combined, if the application has a `by` clause.
    pub join: Option<Join>,
    /// The set of failed shards, if the application has a `catch` clause: a
    /// shard that fails adds one item to it (and none to the outputs)
    /// instead of failing the invocation.
    pub catch: Option<SetId>,
    /// The application in the source.
    pub span: Span,
}

/// What an application calls.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Callee {
    /// A declared or registered function (run in a sandbox).
    Function(String),
    /// A composition defined earlier in the file or registered; the engine decides
    /// whether to inline it.
    Composition(String),
    /// A built-in communication function.
    Builtin(Builtin),
}

impl Callee {
    /// The name of the callee as written in the source.
    pub fn name(&self) -> &str {
        match self {
            Callee::Function(n) | Callee::Composition(n) => n,
            Callee::Builtin(b) => b.name(),
        }
    }
}

/// One bound parameter of a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInput {
    /// The callee's parameter name.
    pub param: String,
    /// The set read.
    pub set: SetId,
    /// How the set is sharded over instances.
    pub mode: Mode,
    /// Whether the node still runs when the set is empty.
    pub optional: bool,
}

/// How an input set is distributed over function instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// One instance receives every item.
    All,
    /// One instance per item.
    Each,
    /// One instance per distinct key.
    Keyed,
    /// One instance per distinct item name (the items with that name). Not
    /// joinable with `by`, which matches keys.
    Named,
}

impl Mode {
    /// The keyword (`all`, `each`, `keyed`, `named`).
    pub fn keyword(self) -> &'static str {
        match self {
            Mode::All => "all",
            Mode::Each => "each",
            Mode::Keyed => "keyed",
            Mode::Named => "named",
        }
    }
}

/// One bound output of a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeOutput {
    /// The callee's output name.
    pub param: String,
    /// The set written.
    pub set: SetId,
}

/// A `by` clause: `inputs[first] rest[0].0 inputs[rest[0].1] ...`, left-associative.
/// All indices are into [`Node::inputs`] and name keyed inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Join {
    /// The first input.
    pub first: usize,
    /// The following joins and inputs.
    pub rest: Vec<(JoinKind, usize)>,
}

/// How the keys of two keyed inputs are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinKind {
    /// Keys present in both.
    Inner,
    /// Keys of the left side.
    Left,
    /// Keys of the right side.
    Right,
    /// Keys present in either.
    Outer,
    /// Every pair of keys.
    Cross,
}

impl JoinKind {
    /// The keyword (`inner`, `left`, `right`, `outer`, `cross`).
    pub fn keyword(self) -> &'static str {
        match self {
            JoinKind::Inner => "inner",
            JoinKind::Left => "left",
            JoinKind::Right => "right",
            JoinKind::Outer => "outer",
            JoinKind::Cross => "cross",
        }
    }
}

/// A readable dump, one line per set and node, used by golden tests and tools:
///
/// ```text
/// plan Words (Text) => (Words)
///   set s0 Text <- input 0 -> n0.0
///   set s1 Words <- n0.0 -> output 0
///   node n0 function Split (text = each s0) => (words -> s1)
///   order n0
/// ```
impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "plan {} ({}) => ({})",
            self.name,
            self.inputs.join(", "),
            self.outputs.join(", ")
        )?;
        for (i, set) in self.sets.iter().enumerate() {
            write!(f, "  set s{i} {} <- ", set.name)?;
            match set.producer {
                Producer::Input(k) => write!(f, "input {k}")?,
                Producer::Node { node, output } => write!(f, "n{}.{output}", node.0)?,
                Producer::Catch(node) => write!(f, "n{}.catch", node.0)?,
            }
            for (node, input) in &set.consumers {
                write!(f, " -> n{}.{input}", node.0)?;
            }
            for (k, _) in self
                .output_sets
                .iter()
                .enumerate()
                .filter(|(_, s)| s.0 == i)
            {
                write!(f, " -> output {k}")?;
            }
            writeln!(f)?;
        }
        for (i, node) in self.nodes.iter().enumerate() {
            let kind = match node.callee {
                Callee::Function(_) => "function",
                Callee::Composition(_) => "composition",
                Callee::Builtin(_) => "builtin",
            };
            write!(f, "  node n{i} {kind} {} (", node.callee.name())?;
            for (k, input) in node.inputs.iter().enumerate() {
                let sep = if k > 0 { ", " } else { "" };
                let optional = if input.optional { "optional " } else { "" };
                write!(
                    f,
                    "{sep}{} = {optional}{} s{}",
                    input.param,
                    input.mode.keyword(),
                    input.set.0
                )?;
            }
            write!(f, ") => (")?;
            for (k, output) in node.outputs.iter().enumerate() {
                let sep = if k > 0 { ", " } else { "" };
                write!(f, "{sep}{} -> s{}", output.param, output.set.0)?;
            }
            write!(f, ")")?;
            if let Some(join) = &node.join {
                write!(f, " by #{}", join.first)?;
                for (kind, k) in &join.rest {
                    write!(f, " {} #{k}", kind.keyword())?;
                }
            }
            if let Some(set) = node.catch {
                write!(f, " catch -> s{}", set.0)?;
            }
            writeln!(f)?;
        }
        write!(f, "  order")?;
        for id in &self.order {
            write!(f, " n{}", id.0)?;
        }
        writeln!(f)
    }
}
