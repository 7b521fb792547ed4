//! The registry: per-tenant functions and compositions, optionally persisted.
//!
//! Rules (enforced at registration so that an invocation never meets a
//! dangling name):
//! - A composition may only be registered when every function it declares
//!   *and uses* is registered ([`Error::UnknownFunction`] names the first
//!   missing one) and every composition it calls is defined earlier in the
//!   same text or registered.
//! - No chain of compositions calling compositions may be longer than the
//!   engine's nesting bound ([`Error::NestingTooDeep`] names the chain); the
//!   check is memoised per name, so it is linear in the tenant's compositions.
//! - A function or composition that a registered composition uses cannot be
//!   deleted ([`Error::Conflict`]); a composition that others use may be
//!   replaced only by one with the same signature.

pub(crate) mod quota;
mod resolve;
pub(crate) mod statics;
pub(crate) mod store;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use pappus_dsl::{Callee, Env, Plan, Signature};

use crate::executor::resolved::Resolved;
use crate::wiring::check_declaration;
use crate::{Bytes, DiagnosticInfo, Error, Limits, Result, WasiSettings};
use quota::Quotas;
use store::{CompositionRecord, Store};

/// A registered function, as listed by [`Tenant::list_functions`](crate::Tenant::list_functions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionInfo {
    /// The function's name.
    pub name: String,
    /// Its limits.
    pub limits: Limits,
    /// Size of the registered module in bytes.
    pub module_bytes: u64,
    /// Its WASI settings (`argv`, environment, file caps; ignored by ABI v1
    /// functions).
    pub settings: WasiSettings,
    /// Its static sets, in registration order (`docs/dataplane.md`).
    pub static_sets: Vec<StaticSetInfo>,
}

/// One static set of a registered function, as listed in [`FunctionInfo`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticSetInfo {
    /// The set's name.
    pub name: String,
    /// How many items it holds.
    pub items: u64,
    /// Its items' bytes in total.
    pub bytes: u64,
}

/// A registered composition, as listed by [`Tenant::list_compositions`](crate::Tenant::list_compositions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompositionInfo {
    /// The composition's name.
    pub name: String,
    /// Its input set names, in signature order.
    pub inputs: Vec<String>,
    /// Its output set names, in signature order.
    pub outputs: Vec<String>,
    /// The whole text that defined it.
    pub source: String,
}

#[derive(Clone)]
pub(crate) struct FunctionEntry {
    pub function: pappus_isolation::Function,
    pub limits: Limits,
    pub module: Bytes,
    pub settings: WasiSettings,
    /// The content hash of each static item, set by set (the sets
    /// themselves are the function's: [`pappus_isolation::Function::static_sets`]).
    pub static_hashes: Arc<[Vec<statics::Hash>]>,
}

impl FunctionEntry {
    /// A digest of the function's static sets (names, item names, keys and
    /// bytes), for keys of anything cached per function and input: the same
    /// module registered with other static sets computes other outputs.
    #[allow(dead_code, reason = "the key of cached results uses it")]
    pub(crate) fn static_digest(&self) -> [u8; 32] {
        self.function.static_digest()
    }
}

#[derive(Clone)]
pub(crate) struct CompositionEntry {
    pub plan: Arc<Plan>,
    pub source: Arc<str>,
    /// The `function` declarations of the source: what each function may
    /// write is checked against them at run time.
    pub declared: Arc<[(String, Signature)]>,
}

/// What registering composition text did: the compositions, and what the
/// user should hear about although nothing failed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registration {
    /// The names of the registered compositions, in file order.
    pub compositions: Vec<String>,
    /// Warnings, one sentence each: a declared function whose module embeds
    /// no signature, so its declaration could not be checked.
    pub warnings: Vec<String>,
}

#[derive(Default)]
pub(crate) struct TenantState {
    pub functions: HashMap<String, FunctionEntry>,
    pub compositions: HashMap<String, CompositionEntry>,
    /// Resolved plans, dropped on every change of the tenant.
    resolved: Mutex<HashMap<String, Arc<Resolved>>>,
}

impl TenantState {
    fn changed(&mut self) {
        if let Ok(cache) = self.resolved.get_mut() {
            cache.clear();
        }
    }

    /// Names of the compositions that call `callee`.
    fn users(&self, callee: &Callee) -> Vec<String> {
        let mut users: Vec<String> = self
            .compositions
            .values()
            .filter(|c| c.plan.nodes.iter().any(|n| &n.callee == callee))
            .map(|c| c.plan.name.clone())
            .collect();
        users.sort();
        users
    }
}

pub(crate) struct Registry {
    tenants: RwLock<HashMap<String, TenantState>>,
    store: Option<Store>,
    seq: std::sync::atomic::AtomicU64,
    /// The longest chain of nested compositions a registration may create.
    max_nesting_depth: usize,
    /// The bounds on each tenant's registry, checked on new registrations.
    quotas: Quotas,
}

/// Validates a function name: a composition-language identifier.
pub(crate) fn check_function_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = name.len() <= 128
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "invalid function name `{name}`: use letters, digits and `_`, not starting with a digit"
        )))
    }
}

/// Validates a tenant name (it names a directory under the data dir).
pub(crate) fn check_tenant_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "invalid tenant name `{name}`: use letters, digits, `_`, `-` and `.`"
        )))
    }
}

/// Most bytes of arguments and environment a function may be registered with:
/// they are copied into every call's sandbox.
const MAX_WASI_SETTINGS_BYTES: usize = 64 << 10;

/// Validates a WASI function's `argv` and environment: C strings (no NUL),
/// variable names without `=`, within [`MAX_WASI_SETTINGS_BYTES`].
pub(crate) fn check_wasi_settings(settings: &pappus_isolation::WasiSettings) -> Result<()> {
    let mut total: usize = 0;
    for arg in &settings.args {
        if arg.contains('\0') {
            return Err(Error::invalid_input(format!(
                "argument {arg:?} holds a NUL byte"
            )));
        }
        total = total.saturating_add(arg.len() + 1);
    }
    for (name, value) in &settings.env {
        if name.is_empty() || name.contains(['=', '\0']) {
            return Err(Error::invalid_input(format!(
                "environment variable name {name:?} is empty or holds `=` or NUL"
            )));
        }
        if value.contains('\0') {
            return Err(Error::invalid_input(format!(
                "environment variable `{name}` holds a NUL byte"
            )));
        }
        total = total.saturating_add(name.len() + value.len() + 2);
    }
    if total > MAX_WASI_SETTINGS_BYTES {
        return Err(Error::invalid_input(format!(
            "arguments and environment take {total} bytes, over the limit of {MAX_WASI_SETTINGS_BYTES}"
        )));
    }
    Ok(())
}

fn poisoned() -> Error {
    Error::Config {
        reason: "registry lock poisoned by an earlier panic".into(),
    }
}

/// Renders diagnostics for an error answer.
pub(crate) fn diagnostics_error(diagnostics: &[pappus_dsl::Diagnostic], source: &str) -> Error {
    let rendered = diagnostics
        .iter()
        .map(|d| d.render("<composition>", source))
        .collect::<Vec<_>>()
        .join("\n");
    let infos = diagnostics
        .iter()
        .map(|d| {
            let (line, column) = d.line_col(source);
            DiagnosticInfo {
                severity: if d.is_error() { "error" } else { "warning" },
                line,
                column,
                message: d.message.clone(),
            }
        })
        .collect();
    Error::Diagnostics {
        rendered,
        diagnostics: infos,
    }
}

impl Registry {
    pub(crate) fn new(store: Option<Store>, max_nesting_depth: usize, quotas: Quotas) -> Registry {
        Registry {
            tenants: RwLock::new(HashMap::new()),
            store,
            seq: std::sync::atomic::AtomicU64::new(1),
            max_nesting_depth,
            quotas,
        }
    }

    /// Refuses a new function `name` of `module_bytes` bytes that would take
    /// `tenant` over its quotas: checked before the module is compiled, and
    /// again when it is inserted.
    pub(crate) fn check_function_quota(
        &self,
        tenant: &str,
        name: &str,
        module_bytes: u64,
    ) -> Result<()> {
        let tenants = self.tenants.read().map_err(|_| poisoned())?;
        self.quotas
            .check_function(tenant, tenants.get(tenant), name, module_bytes)
    }

    /// Prepares the static sets of a new function `name` of `tenant`: refuses
    /// them if the tenant's distinct static bytes would exceed its quota, and
    /// points every item whose content the tenant already holds at that
    /// copy. Checked before the module is compiled, and again when inserted.
    pub(crate) fn prepare_static(
        &self,
        tenant: &str,
        name: &str,
        sets: &mut [pappus_isolation::StaticSet],
        hashes: &[Vec<statics::Hash>],
    ) -> Result<()> {
        let tenants = self.tenants.read().map_err(|_| poisoned())?;
        let state = tenants.get(tenant);
        let held = statics::tenant_blobs(state, Some(name));
        let added = statics::added_bytes(&held, sets, hashes);
        self.quotas
            .check_static(tenant, statics::total_bytes(&held), added)?;
        // Content another function of the tenant holds (a function being
        // replaced included) is shared rather than kept twice.
        let all = statics::tenant_blobs(state, None);
        statics::share(sets, hashes, &all);
        Ok(())
    }

    pub(crate) fn store(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    /// Inserts function `name`. A new registration (`persist`) is checked
    /// against the tenant's quotas; a restored one is not (it was admitted
    /// when registered, and an operator may have lowered a quota since).
    pub(crate) fn insert_function(
        &self,
        tenant: &str,
        name: &str,
        entry: FunctionEntry,
        persist: bool,
    ) -> Result<()> {
        check_tenant_name(tenant)?;
        check_function_name(name)?;
        let mut tenants = self.tenants.write().map_err(|_| poisoned())?;
        if persist {
            self.quotas.check_function(
                tenant,
                tenants.get(tenant),
                name,
                entry.module.len() as u64,
            )?;
            let sets = entry.function.static_sets();
            let held = statics::tenant_blobs(tenants.get(tenant), Some(name));
            let added = statics::added_bytes(&held, sets, &entry.static_hashes);
            self.quotas
                .check_static(tenant, statics::total_bytes(&held), added)?;
            if let Some(store) = &self.store {
                // Contents the tenant holds are on disk already.
                let all = statics::tenant_blobs(tenants.get(tenant), None);
                let mut new_blobs: HashMap<statics::Hash, Bytes> = HashMap::new();
                for (set, hashes) in sets.iter().zip(entry.static_hashes.iter()) {
                    for (item, hash) in set.items.iter().zip(hashes) {
                        if !all.contains_key(hash) {
                            new_blobs.entry(*hash).or_insert_with(|| item.data.clone());
                        }
                    }
                }
                let new_blobs: Vec<(statics::Hash, Bytes)> = new_blobs.into_iter().collect();
                store.put_function(
                    tenant,
                    name,
                    &entry.module,
                    entry.limits,
                    &entry.settings,
                    sets,
                    &entry.static_hashes,
                    &new_blobs,
                )?;
            }
        }
        let state = tenants.entry(tenant.to_string()).or_default();
        let replaced_statics = state
            .functions
            .insert(name.to_string(), entry)
            .is_some_and(|old| !old.static_hashes.is_empty());
        state.changed();
        if persist && replaced_statics {
            self.remove_unreferenced_blobs(tenant, state);
        }
        Ok(())
    }

    /// Removes the tenant's stored static blobs no function references any
    /// more (called with the registry locked, after a record changed).
    fn remove_unreferenced_blobs(&self, tenant: &str, state: &TenantState) {
        if let Some(store) = &self.store {
            let keep: std::collections::HashSet<statics::Hash> = state
                .functions
                .values()
                .flat_map(|f| f.static_hashes.iter().flatten().copied())
                .collect();
            store.remove_unreferenced_blobs(tenant, &keep);
        }
    }

    /// Checks `source` against the tenant's registry and registers every
    /// composition it defines. With `only`, registers just those names (reload).
    pub(crate) fn register_compositions(
        &self,
        tenant: &str,
        source: &str,
        seq: Option<u64>,
        only: Option<&[String]>,
    ) -> Result<Registration> {
        check_tenant_name(tenant)?;
        let file = pappus_dsl::parse(source).map_err(|d| diagnostics_error(&d, source))?;
        let mut tenants = self.tenants.write().map_err(|_| poisoned())?;
        let state = tenants.entry(tenant.to_string()).or_default();
        let mut env = Env::new();
        for entry in state.compositions.values() {
            env.add_composition(entry.plan.clone());
        }
        let checked = pappus_dsl::check(&file, &env);
        if checked.has_errors() {
            return Err(diagnostics_error(&checked.diagnostics, source));
        }
        let warnings = check_declarations(state, &checked.functions)?;
        let declared: Arc<[(String, Signature)]> = Arc::from(checked.functions.clone());
        let plans: Vec<Arc<Plan>> = checked
            .plans
            .iter()
            .filter(|p| only.is_none_or(|names| names.contains(&p.name)))
            .cloned()
            .collect();
        // Every function a composition calls must be registered.
        for plan in &plans {
            for node in &plan.nodes {
                if let Callee::Function(f) = &node.callee {
                    if !state.functions.contains_key(f) {
                        return Err(Error::UnknownFunction { name: f.clone() });
                    }
                }
            }
            // Replacing a composition that others call must keep its signature.
            if let Some(old) = state.compositions.get(&plan.name) {
                if old.plan.signature() != plan.signature() {
                    let users: Vec<String> = state
                        .users(&Callee::Composition(plan.name.clone()))
                        .into_iter()
                        .filter(|u| !plans.iter().any(|p| &p.name == u))
                        .collect();
                    if !users.is_empty() {
                        return Err(Error::Conflict {
                            reason: format!(
                                "composition `{}` is used by {} and the new definition changes its signature",
                                plan.name,
                                users.join(", ")
                            ),
                        });
                    }
                }
            }
        }
        self.check_nesting(state, &plans)?;
        // Restored compositions (`only`) load over a lowered quota.
        if only.is_none() {
            self.quotas
                .check_compositions(tenant, state, plans.iter().map(|p| p.name.as_str()))?;
        }
        let seq =
            seq.unwrap_or_else(|| self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        self.seq
            .fetch_max(seq + 1, std::sync::atomic::Ordering::Relaxed);
        let source: Arc<str> = Arc::from(source);
        if only.is_none() {
            if let Some(store) = &self.store {
                let record = CompositionRecord {
                    seq,
                    source: source.to_string(),
                };
                for plan in &plans {
                    store.put_composition(tenant, &plan.name, &record)?;
                }
            }
        }
        let mut names = Vec::with_capacity(plans.len());
        for plan in plans {
            names.push(plan.name.clone());
            state.compositions.insert(
                plan.name.clone(),
                CompositionEntry {
                    plan,
                    source: source.clone(),
                    declared: declared.clone(),
                },
            );
        }
        state.changed();
        Ok(Registration {
            compositions: names,
            warnings,
        })
    }

    /// Refuses `plans` if, with them replacing their namesakes, some chain of
    /// nested compositions of the tenant would exceed the depth bound
    /// (checking every composition, since a replaced one may deepen its
    /// callers). Linear in the tenant's compositions: depths are memoised.
    fn check_nesting(&self, state: &TenantState, plans: &[Arc<Plan>]) -> Result<()> {
        let new: HashMap<&str, &Plan> = plans.iter().map(|p| (p.name.as_str(), &**p)).collect();
        let lookup = |name: &str| -> Option<&Plan> {
            new.get(name)
                .copied()
                .or_else(|| state.compositions.get(name).map(|c| &*c.plan))
        };
        let mut memo = resolve::Depths::new();
        let roots = plans
            .iter()
            .map(|p| p.name.as_str())
            .chain(state.compositions.keys().map(String::as_str));
        for name in roots {
            resolve::check_depth(
                &lookup,
                name,
                self.max_nesting_depth,
                &mut memo,
                &mut Vec::new(),
            )?;
        }
        Ok(())
    }

    pub(crate) fn resolve(&self, tenant: &str, composition: &str) -> Result<Arc<Resolved>> {
        let tenants = self.tenants.read().map_err(|_| poisoned())?;
        let state = tenants
            .get(tenant)
            .ok_or_else(|| Error::UnknownComposition {
                name: composition.to_string(),
            })?;
        // The tenant's cache is the memo: nested plans resolved once are
        // shared by every caller.
        let mut cache = state.resolved.lock().map_err(|_| poisoned())?;
        resolve::resolve(state, composition, &mut cache, &mut Vec::new())
    }

    pub(crate) fn list_functions(&self, tenant: &str) -> Vec<FunctionInfo> {
        let Ok(tenants) = self.tenants.read() else {
            return Vec::new();
        };
        let mut out: Vec<FunctionInfo> = tenants
            .get(tenant)
            .map(|s| {
                s.functions
                    .iter()
                    .map(|(name, f)| function_info(name, f))
                    .collect()
            })
            .unwrap_or_default();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    pub(crate) fn get_function(&self, tenant: &str, name: &str) -> Option<FunctionEntry> {
        let tenants = self.tenants.read().ok()?;
        tenants.get(tenant)?.functions.get(name).cloned()
    }

    pub(crate) fn delete_function(&self, tenant: &str, name: &str) -> Result<()> {
        let mut tenants = self.tenants.write().map_err(|_| poisoned())?;
        let state = tenants
            .get_mut(tenant)
            .filter(|s| s.functions.contains_key(name))
            .ok_or_else(|| Error::UnknownFunction {
                name: name.to_string(),
            })?;
        let users = state.users(&Callee::Function(name.to_string()));
        if !users.is_empty() {
            return Err(Error::Conflict {
                reason: format!(
                    "function `{name}` is used by composition(s) {}",
                    users.join(", ")
                ),
            });
        }
        if let Some(store) = &self.store {
            store.delete_function(tenant, name)?;
        }
        let had_statics = state
            .functions
            .remove(name)
            .is_some_and(|old| !old.static_hashes.is_empty());
        state.changed();
        if had_statics {
            self.remove_unreferenced_blobs(tenant, state);
        }
        Ok(())
    }

    pub(crate) fn list_compositions(&self, tenant: &str) -> Vec<CompositionInfo> {
        let Ok(tenants) = self.tenants.read() else {
            return Vec::new();
        };
        let mut out: Vec<CompositionInfo> = tenants
            .get(tenant)
            .map(|s| s.compositions.values().map(composition_info).collect())
            .unwrap_or_default();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    pub(crate) fn get_composition(&self, tenant: &str, name: &str) -> Option<CompositionInfo> {
        let tenants = self.tenants.read().ok()?;
        tenants
            .get(tenant)?
            .compositions
            .get(name)
            .map(composition_info)
    }

    pub(crate) fn delete_composition(&self, tenant: &str, name: &str) -> Result<()> {
        let mut tenants = self.tenants.write().map_err(|_| poisoned())?;
        let state = tenants
            .get_mut(tenant)
            .filter(|s| s.compositions.contains_key(name))
            .ok_or_else(|| Error::UnknownComposition {
                name: name.to_string(),
            })?;
        let users: Vec<String> = state
            .users(&Callee::Composition(name.to_string()))
            .into_iter()
            .filter(|u| u != name)
            .collect();
        if !users.is_empty() {
            return Err(Error::Conflict {
                reason: format!(
                    "composition `{name}` is used by composition(s) {}",
                    users.join(", ")
                ),
            });
        }
        if let Some(store) = &self.store {
            store.delete_composition(tenant, name)?;
        }
        state.compositions.remove(name);
        state.changed();
        Ok(())
    }

    /// Re-registers persisted compositions: sources in sequence order, retried
    /// until no more succeed (a source may call a composition registered later
    /// under the same name). Returns the ones that could not be restored.
    pub(crate) fn restore_compositions(
        &self,
        tenant: &str,
        records: Vec<(String, CompositionRecord)>,
    ) -> Vec<(Vec<String>, Error)> {
        let mut by_seq: BTreeMap<u64, (String, Vec<String>)> = BTreeMap::new();
        for (name, record) in records {
            by_seq
                .entry(record.seq)
                .or_insert_with(|| (record.source, Vec::new()))
                .1
                .push(name);
        }
        let mut pending: Vec<(u64, String, Vec<String>)> = by_seq
            .into_iter()
            .map(|(seq, (source, names))| (seq, source, names))
            .collect();
        loop {
            let mut failed = Vec::new();
            let before = pending.len();
            for (seq, source, names) in pending {
                if let Err(e) = self.register_compositions(tenant, &source, Some(seq), Some(&names))
                {
                    failed.push((seq, source, names, e));
                }
            }
            if failed.is_empty() {
                return Vec::new();
            }
            if failed.len() == before {
                return failed
                    .into_iter()
                    .map(|(_, _, names, e)| (names, e))
                    .collect();
            }
            pending = failed
                .into_iter()
                .map(|(s, src, n, _)| (s, src, n))
                .collect();
        }
    }
}

/// Checks each `function` declaration of a text against the signature its
/// registered module embeds: a difference is [`Error::SignatureMismatch`]; an
/// ABI v1 module without one gives a warning (a WASI program cannot have one). Declarations of functions not
/// registered are left to the usual rules.
fn check_declarations(
    state: &TenantState,
    declarations: &[(String, Signature)],
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    for (name, declared) in declarations {
        let Some(entry) = state.functions.get(name) else {
            continue;
        };
        warnings.extend(check_declaration(
            name,
            declared,
            entry.function.signature(),
            entry.function.is_wasi(),
        )?);
        // A static set is an input the composition does not pass: a declared
        // set of the same name would be two sets in one place.
        for set in entry.function.static_sets() {
            if declared.inputs.contains(&set.name) || declared.outputs.contains(&set.name) {
                return Err(Error::Conflict {
                    reason: format!(
                        "function `{name}` has a static set `{}`, which its declaration also names as an input or output",
                        set.name
                    ),
                });
            }
        }
    }
    Ok(warnings)
}

pub(crate) fn function_info(name: &str, f: &FunctionEntry) -> FunctionInfo {
    FunctionInfo {
        name: name.to_string(),
        limits: f.limits,
        module_bytes: f.module.len() as u64,
        settings: f.settings.clone(),
        static_sets: f
            .function
            .static_sets()
            .iter()
            .map(|s| StaticSetInfo {
                name: s.name.clone(),
                items: s.items.len() as u64,
                bytes: s.items.iter().map(|i| i.data.len() as u64).sum(),
            })
            .collect(),
    }
}

fn composition_info(c: &CompositionEntry) -> CompositionInfo {
    CompositionInfo {
        name: c.plan.name.clone(),
        inputs: c.plan.inputs.clone(),
        outputs: c.plan.outputs.clone(),
        source: c.source.to_string(),
    }
}
