//! [`MemoryBudget`]: how many fetched bytes may be held in memory, per node
//! and per invocation, and the [`Lease`] an object in memory holds on it.
//!
//! A fetched object is kept in memory only while a lease on every budget
//! that applies covers its size; the lease travels with the object's bytes
//! (see [`crate::body`]) and is given back when the last reference to them is
//! dropped, so the budgets count exactly what is still held. An object no
//! lease can cover goes to a file instead (`docs/io.md`, "Budgets").

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A bound on bytes of fetched objects held in memory at once.
///
/// The I/O runtime keeps one for the node
/// ([`RingConfig::fetch_memory_bytes`](crate::RingConfig::fetch_memory_bytes));
/// a caller may give each call another, shared by the calls of one invocation
/// ([`CallOptions::budget`](crate::CallOptions::budget)). Objects that do not
/// fit are spilled to disk rather than refused.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: u64,
    used: AtomicU64,
}

impl MemoryBudget {
    /// A budget of `limit` bytes, none in use.
    pub fn new(limit: u64) -> Arc<MemoryBudget> {
        Arc::new(MemoryBudget {
            limit,
            used: AtomicU64::new(0),
        })
    }

    /// The bound, in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes held now by objects in memory under this budget.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Takes `n` bytes if they fit; never goes over the limit, even when
    /// threads race.
    fn take(&self, n: u64) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    fn give(&self, n: u64) {
        // Never below zero: a lease gives back exactly what it took.
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(n))
            });
    }
}

/// Bytes taken from one or more budgets, all or none; given back on drop.
#[derive(Debug, Default)]
pub(crate) struct Lease {
    budgets: Vec<Arc<MemoryBudget>>,
    bytes: u64,
}

impl Lease {
    /// An empty lease on `budgets` (every one must cover what it grows to).
    pub(crate) fn on(budgets: Vec<Arc<MemoryBudget>>) -> Lease {
        Lease { budgets, bytes: 0 }
    }

    /// The smallest limit of its budgets (0 for a lease on none).
    pub(crate) fn limit(&self) -> u64 {
        self.budgets.iter().map(|b| b.limit).min().unwrap_or(0)
    }

    /// Grows the lease to cover `total` bytes; `false` (and unchanged) when a
    /// budget cannot give the difference.
    pub(crate) fn grow_to(&mut self, total: u64) -> bool {
        let Some(more) = total.checked_sub(self.bytes).filter(|&n| n > 0) else {
            return true;
        };
        for (i, budget) in self.budgets.iter().enumerate() {
            if !budget.take(more) {
                for taken in &self.budgets[..i] {
                    taken.give(more);
                }
                return false;
            }
        }
        self.bytes = total;
        true
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        for budget in &self.budgets {
            budget.give(self.bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_takes_from_every_budget_or_none() {
        let node = MemoryBudget::new(100);
        let call = MemoryBudget::new(50);
        let mut a = Lease::on(vec![node.clone(), call.clone()]);
        assert!(a.grow_to(40));
        assert!(!a.grow_to(60), "the call's budget is short");
        assert_eq!((node.used(), call.used()), (40, 40), "nothing half-taken");
        let mut b = Lease::on(vec![node.clone()]);
        assert!(b.grow_to(60));
        assert!(!b.grow_to(61), "the node's budget is short");
        drop(a);
        assert_eq!((node.used(), call.used()), (60, 0));
        drop(b);
        assert_eq!(node.used(), 0);
    }

    #[test]
    fn hostile_sizes_do_not_overflow() {
        let budget = MemoryBudget::new(u64::MAX - 1);
        let mut lease = Lease::on(vec![budget.clone()]);
        assert!(!lease.grow_to(u64::MAX));
        assert!(lease.grow_to(u64::MAX - 1));
        assert!(!Lease::on(vec![budget.clone()]).grow_to(1));
        drop(lease);
        assert_eq!(budget.used(), 0);
    }
}
