//! Per-tenant registration quotas: how many functions and compositions a
//! tenant may hold and how many bytes of modules, so that no tenant can make
//! the node keep compiled code and records without bound.
//!
//! Only new registrations are checked; records restored from the data
//! directory load even over a quota lowered since they were written.

use super::TenantState;
use crate::{Error, Result};

/// Default of [`EngineBuilder::max_functions_per_tenant`](crate::EngineBuilder::max_functions_per_tenant).
pub const DEFAULT_MAX_FUNCTIONS_PER_TENANT: u64 = 1_000;
/// Default of [`EngineBuilder::max_compositions_per_tenant`](crate::EngineBuilder::max_compositions_per_tenant).
pub const DEFAULT_MAX_COMPOSITIONS_PER_TENANT: u64 = 1_000;
/// Default of [`EngineBuilder::max_module_bytes_per_tenant`](crate::EngineBuilder::max_module_bytes_per_tenant): 512 MiB.
pub const DEFAULT_MAX_MODULE_BYTES_PER_TENANT: u64 = 512 << 20;
/// Default of [`EngineBuilder::max_static_bytes_per_tenant`](crate::EngineBuilder::max_static_bytes_per_tenant): 4 GiB.
pub const DEFAULT_MAX_STATIC_BYTES_PER_TENANT: u64 = 4 << 30;

/// The bounds on one tenant's registry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Quotas {
    pub functions: u64,
    pub compositions: u64,
    pub module_bytes: u64,
    /// Bytes of distinct static items (each content counted once).
    pub static_bytes: u64,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            functions: DEFAULT_MAX_FUNCTIONS_PER_TENANT,
            compositions: DEFAULT_MAX_COMPOSITIONS_PER_TENANT,
            module_bytes: DEFAULT_MAX_MODULE_BYTES_PER_TENANT,
            static_bytes: DEFAULT_MAX_STATIC_BYTES_PER_TENANT,
        }
    }
}

fn exceeded(tenant: &str, what: &'static str, limit: u64) -> Error {
    Error::QuotaExceeded {
        tenant: tenant.to_string(),
        what,
        limit,
    }
}

impl Quotas {
    /// Refuses registering function `name` with a module of `module_bytes`
    /// bytes if the tenant would then hold more functions or module bytes than
    /// allowed. A function replacing its namesake is not a new one, and its
    /// module's size replaces the old one's.
    pub(crate) fn check_function(
        &self,
        tenant: &str,
        state: Option<&TenantState>,
        name: &str,
        module_bytes: u64,
    ) -> Result<()> {
        let (count, bytes) = state.map_or((0, 0), |s| {
            let others = s.functions.iter().filter(|(n, _)| n.as_str() != name);
            others.fold((0u64, 0u64), |(count, bytes), (_, f)| {
                (
                    count.saturating_add(1),
                    bytes.saturating_add(f.module.len() as u64),
                )
            })
        });
        if count >= self.functions {
            return Err(exceeded(tenant, "functions", self.functions));
        }
        if bytes.saturating_add(module_bytes) > self.module_bytes {
            return Err(exceeded(tenant, "module_bytes", self.module_bytes));
        }
        Ok(())
    }

    /// Refuses static sets that would take the tenant's distinct static
    /// bytes over its quota: `held` is what the tenant's other functions hold
    /// (by content), `added` what the new sets add to it.
    pub(crate) fn check_static(&self, tenant: &str, held: u64, added: u64) -> Result<()> {
        if added > 0 && held.saturating_add(added) > self.static_bytes {
            return Err(exceeded(tenant, "static_bytes", self.static_bytes));
        }
        Ok(())
    }

    /// Refuses registering compositions `names` if the tenant would then hold
    /// more compositions than allowed (names already registered are
    /// replacements, not new ones).
    pub(crate) fn check_compositions<'a>(
        &self,
        tenant: &str,
        state: &TenantState,
        names: impl Iterator<Item = &'a str>,
    ) -> Result<()> {
        let added = names
            .filter(|n| !state.compositions.contains_key(*n))
            .count() as u64;
        let total = (state.compositions.len() as u64).saturating_add(added);
        if added > 0 && total > self.compositions {
            return Err(exceeded(tenant, "compositions", self.compositions));
        }
        Ok(())
    }
}
