//! Static sets in the registry: validating them, addressing their items by
//! content, and sharing one host copy of each item's bytes within a tenant.
//!
//! Every item is identified by the SHA-256 of its bytes. A tenant's items are
//! stored once per distinct hash (on disk under `static/`, in memory as one
//! [`Bytes`] that every function of the tenant holding that content shares),
//! counted once against its static-bytes quota, and removed when no function
//! of the tenant references them. Nothing is shared between tenants, even for
//! identical content: each tenant's store and memory map are its own.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::TenantState;
use crate::{Bytes, Error, Result, StaticSet};

/// The content hash of an item's bytes.
pub(crate) type Hash = [u8; 32];

/// Most static sets one function may have.
const MAX_SETS: usize = 64;
/// Most items over all static sets of one function.
const MAX_ITEMS: usize = 100_000;
/// Longest item name, in bytes.
const MAX_ITEM_NAME: usize = 4096;
/// Set names a WASI program reaches otherwise (stdio, the key directory).
const RESERVED: [&str; 3] = ["stdin", "stdout", "stderr"];

/// Checks the static sets of function `function`: identifiers for set
/// names, none reserved or repeated, bounded counts and item names.
pub(crate) fn validate(function: &str, statics: &[StaticSet]) -> Result<()> {
    let bad = |reason: String| {
        Err(Error::invalid_input(format!(
            "function `{function}`: {reason}"
        )))
    };
    if statics.len() > MAX_SETS {
        return bad(format!(
            "{} static sets, more than the {MAX_SETS} allowed",
            statics.len()
        ));
    }
    let items: usize = statics.iter().map(|s| s.items.len()).sum();
    if items > MAX_ITEMS {
        return bad(format!(
            "{items} static items, more than the {MAX_ITEMS} allowed"
        ));
    }
    for (i, set) in statics.iter().enumerate() {
        if super::check_function_name(&set.name).is_err() || RESERVED.contains(&set.name.as_str()) {
            return bad(format!(
                "static set name `{}` is not allowed: use letters, digits and `_`, not starting with a digit, and not stdin, stdout or stderr",
                set.name
            ));
        }
        if statics[..i].iter().any(|s| s.name == set.name) {
            return bad(format!("two static sets are named `{}`", set.name));
        }
        for item in &set.items {
            if item.name.len() > MAX_ITEM_NAME || item.name.contains('\0') {
                return bad(format!(
                    "static set `{}` has an item name longer than {MAX_ITEM_NAME} bytes or holding NUL",
                    set.name
                ));
            }
        }
    }
    Ok(())
}

/// The content hash of every item, set by set.
pub(crate) fn hash_items(statics: &[StaticSet]) -> Vec<Vec<Hash>> {
    statics
        .iter()
        .map(|set| {
            set.items
                .iter()
                .map(|item| Sha256::digest(&item.data).into())
                .collect()
        })
        .collect()
}

/// The bytes of every item the tenant's functions hold, by content hash,
/// leaving out function `except` (one being replaced).
pub(crate) fn tenant_blobs(
    state: Option<&TenantState>,
    except: Option<&str>,
) -> HashMap<Hash, Bytes> {
    let mut blobs = HashMap::new();
    let Some(state) = state else {
        return blobs;
    };
    for (name, entry) in &state.functions {
        if Some(name.as_str()) == except {
            continue;
        }
        let sets = entry.function.static_sets();
        for (set, hashes) in sets.iter().zip(entry.static_hashes.iter()) {
            for (item, hash) in set.items.iter().zip(hashes) {
                blobs.entry(*hash).or_insert_with(|| item.data.clone());
            }
        }
    }
    blobs
}

/// Total bytes of distinct blobs.
pub(crate) fn total_bytes(blobs: &HashMap<Hash, Bytes>) -> u64 {
    blobs
        .values()
        .fold(0u64, |sum, b| sum.saturating_add(b.len() as u64))
}

/// Bytes that `hashes` (with their items in `statics`) add to `existing`:
/// each distinct new content once.
pub(crate) fn added_bytes(
    existing: &HashMap<Hash, Bytes>,
    statics: &[StaticSet],
    hashes: &[Vec<Hash>],
) -> u64 {
    let mut seen = std::collections::HashSet::new();
    let mut added = 0u64;
    for (set, hashes) in statics.iter().zip(hashes) {
        for (item, hash) in set.items.iter().zip(hashes) {
            if !existing.contains_key(hash) && seen.insert(*hash) {
                added = added.saturating_add(item.data.len() as u64);
            }
        }
    }
    added
}

/// Points every item whose content the tenant already holds at that copy,
/// so that the new function shares it rather than keeping another.
pub(crate) fn share(
    statics: &mut [StaticSet],
    hashes: &[Vec<Hash>],
    existing: &HashMap<Hash, Bytes>,
) {
    let mut new: HashMap<Hash, Bytes> = HashMap::new();
    for (set, hashes) in statics.iter_mut().zip(hashes) {
        for (item, hash) in set.items.iter_mut().zip(hashes) {
            if let Some(shared) = existing.get(hash).or_else(|| new.get(hash)) {
                item.data = shared.clone();
            } else {
                new.insert(*hash, item.data.clone());
            }
        }
    }
}
