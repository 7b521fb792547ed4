//! The last pass: the plan of an error-free composition.

use super::resolve::{Kind, Resolved};
use super::sets::{CompositionSets, Writer};
use crate::ast::{self, Application, Composition, Ident};
use crate::{
    Callee, Join, Mode, Node, NodeId, NodeInput, NodeOutput, Plan, Producer, SetDef, SetId,
    Signature,
};

/// Builds the plan of an error-free composition; `resolved` holds each
/// application's callee and `order` the applications in a topological order.
pub(super) fn plan(
    comp: &Composition,
    sets: &CompositionSets,
    resolved: &[Option<Resolved>],
    order: Vec<usize>,
) -> Plan {
    let mut defs: Vec<SetDef> = sets
        .sets
        .iter()
        .map(|s| SetDef {
            name: s.name.to_string(),
            producer: match s.writer {
                Writer::Input(k) => Producer::Input(k),
                Writer::App(_) => Producer::Input(0),
            },
            consumers: Vec::new(),
        })
        .collect();
    let nodes = comp
        .body
        .iter()
        .zip(resolved)
        .enumerate()
        .map(|(a, (app, callee))| node(NodeId(a), app, callee.as_ref(), sets, &mut defs))
        .collect();
    let ids = |names: &[Ident]| -> Vec<SetId> { names.iter().map(|n| set_id(sets, n)).collect() };
    Plan {
        name: comp.name.name.clone(),
        inputs: comp.inputs.iter().map(|i| i.name.clone()).collect(),
        outputs: comp.outputs.iter().map(|i| i.name.clone()).collect(),
        sets: defs,
        nodes,
        order: order.into_iter().map(NodeId).collect(),
        input_sets: ids(&comp.inputs),
        output_sets: ids(&comp.outputs),
    }
}

/// The set called `name` (checked to exist before a plan is built).
fn set_id(sets: &CompositionSets, name: &Ident) -> SetId {
    SetId(sets.get(&name.name).unwrap_or(0))
}

/// One application's node, its bindings in signature order; records in `defs`
/// the sets it reads and produces.
fn node(
    node_id: NodeId,
    app: &Application,
    callee: Option<&Resolved>,
    sets: &CompositionSets,
    defs: &mut [SetDef],
) -> Node {
    let empty = Signature::default();
    let (callee, sig) = match callee {
        Some(r) => (
            match r.kind {
                Kind::Builtin(b) => Callee::Builtin(b),
                Kind::Function => Callee::Function(app.callee.name.clone()),
                Kind::Composition => Callee::Composition(app.callee.name.clone()),
            },
            &*r.sig,
        ),
        None => (Callee::Function(app.callee.name.clone()), &empty),
    };
    let position = |names: &[String], n: &str| names.iter().position(|p| p == n);
    let mut ins: Vec<&ast::InputBinding> = app.inputs.iter().collect();
    ins.sort_by_key(|b| position(&sig.inputs, &b.param.name));
    let inputs: Vec<NodeInput> = ins
        .iter()
        .map(|b| NodeInput {
            param: b.param.name.clone(),
            set: set_id(sets, &b.set),
            mode: b.mode,
            optional: b.optional,
        })
        .collect();
    for (k, input) in inputs.iter().enumerate() {
        defs[input.set.0].consumers.push((node_id, k));
    }
    let mut outs: Vec<&ast::OutputBinding> = app.outputs.iter().collect();
    outs.sort_by_key(|b| position(&sig.outputs, &b.output.name));
    let mut outputs = Vec::with_capacity(outs.len());
    for (k, b) in outs.iter().enumerate() {
        let set = set_id(sets, &b.set);
        defs[set.0].producer = Producer::Node {
            node: node_id,
            output: k,
        };
        outputs.push(NodeOutput {
            param: b.output.name.clone(),
            set,
        });
    }
    let keyed_index = |id: &Ident| {
        ins.iter()
            .position(|b| b.set.name == id.name && b.mode == Mode::Keyed)
            .unwrap_or(0)
    };
    let join = app.join.as_ref().map(|j| Join {
        first: keyed_index(&j.first),
        rest: j.rest.iter().map(|(k, s)| (*k, keyed_index(s))).collect(),
    });
    let catch = app.catch.as_ref().map(|name| {
        let set = set_id(sets, name);
        defs[set.0].producer = Producer::Catch(node_id);
        set
    });
    Node {
        callee,
        inputs,
        outputs,
        join,
        catch,
        span: app.span,
    }
}
