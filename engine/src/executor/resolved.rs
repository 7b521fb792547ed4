//! What the executor runs: a plan whose callees are bound to compiled
//! functions, nested plans and builtins. The registry does the binding
//! (`registry::resolve`) and caches the result; the executor only reads it.

use std::sync::Arc;

use pappus_dsl::{builtins::Builtin, Plan};

use super::placement::RecentTime;

/// A plan whose callees are bound, ready to execute. Cached per tenant until
/// the tenant's registry changes.
pub(crate) struct Resolved {
    pub plan: Arc<Plan>,
    pub targets: Vec<Target>,
    /// Per node: `#N `callee` => (Outputs)`, used in errors and events.
    pub labels: Vec<String>,
    /// Per node: the output sets a function's declaration has (every one,
    /// bound or not); a function shard writing any other fails. Empty for
    /// builtins and compositions, whose outputs are known by construction.
    pub declared_outputs: Vec<Vec<String>>,
    /// Per node: its recent sandbox time, which decides where its shards run
    /// (see `placement`). Lives as long as the cached plan.
    pub recent: Vec<RecentTime>,
}

/// What a node runs.
pub(crate) enum Target {
    Function(pappus_isolation::Function),
    Composition(Arc<Resolved>),
    Builtin(Builtin),
}
