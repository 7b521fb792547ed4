//! The last invocations of each tenant, for `GET /v1/logs` (`pappus logs`):
//! when, which composition, the outcome, the timings and, for a failure, the
//! failing application and shard and the error message.
//!
//! Bounded in memory: a ring of at most `logs_per_tenant` entries per tenant
//! (the oldest is dropped), every text field truncated (see [`MAX_MESSAGE_BYTES`]),
//! and tenants are the tokens file's (or the one default tenant). Recording a
//! success copies the composition name and the timings, nothing is formatted.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pappus_engine::{Error as EngineError, Timings};
use serde_json::{json, Value};

/// Default ring size per tenant.
pub const DEFAULT_LOGS_PER_TENANT: usize = 100;
/// Longest error message kept (a guest's stderr tail or error text included).
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// Longest application or shard label kept.
const MAX_LABEL_BYTES: usize = 1024;

/// One invocation.
struct Entry {
    at: SystemTime,
    composition: Box<str>,
    /// `ok` or the error kind.
    outcome: &'static str,
    /// All phases for a success; only the daemon-measured total for a failure.
    timings: Timings,
    failure: Option<Box<FailureInfo>>,
}

struct FailureInfo {
    message: String,
    /// The failing application and shard, for a function's failure.
    application: Option<String>,
    shard: Option<String>,
    /// The failure's kind (`trap`, `timeout`, ...), for a function's failure.
    kind: Option<&'static str>,
}

/// Per-tenant rings of recent invocations.
pub(crate) struct InvocationLog {
    per_tenant: usize,
    rings: Mutex<HashMap<Arc<str>, VecDeque<Entry>>>,
}

impl InvocationLog {
    /// Keeps the last `per_tenant` invocations of each tenant (0 keeps none).
    pub(crate) fn new(per_tenant: usize) -> InvocationLog {
        InvocationLog {
            per_tenant,
            rings: Mutex::new(HashMap::new()),
        }
    }

    fn rings(&self) -> MutexGuard<'_, HashMap<Arc<str>, VecDeque<Entry>>> {
        // A panic while holding the lock cannot leave a ring inconsistent
        // (push and pop are single operations): keep using it.
        self.rings.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, tenant: &Arc<str>, entry: Entry) {
        if self.per_tenant == 0 {
            return;
        }
        let mut rings = self.rings();
        let ring = match rings.get_mut(tenant) {
            Some(ring) => ring,
            None => rings
                .entry(tenant.clone())
                .or_insert_with(|| VecDeque::with_capacity(self.per_tenant)),
        };
        if ring.len() >= self.per_tenant {
            ring.pop_front();
        }
        ring.push_back(entry);
    }

    /// Records a successful invocation that started at `at`.
    pub(crate) fn record_ok(
        &self,
        tenant: &Arc<str>,
        composition: &str,
        at: SystemTime,
        timings: &Timings,
    ) {
        self.push(
            tenant,
            Entry {
                at,
                composition: composition.into(),
                outcome: "ok",
                timings: *timings,
                failure: None,
            },
        );
    }

    /// Records a failed invocation that started at `at` and took `elapsed`.
    pub(crate) fn record_error(
        &self,
        tenant: &Arc<str>,
        composition: &str,
        at: SystemTime,
        elapsed: Duration,
        error: &EngineError,
    ) {
        if self.per_tenant == 0 {
            return;
        }
        let (application, shard, kind) = match error {
            EngineError::Failure {
                application,
                shard,
                kind,
                ..
            } => (
                Some(truncate(application, MAX_LABEL_BYTES)),
                Some(truncate(shard, MAX_LABEL_BYTES)),
                Some(*kind),
            ),
            _ => (None, None, None),
        };
        let failure = FailureInfo {
            message: truncate(&error.to_string(), MAX_MESSAGE_BYTES),
            application,
            shard,
            kind,
        };
        self.push(
            tenant,
            Entry {
                at,
                composition: composition.into(),
                outcome: error.kind(),
                timings: Timings {
                    total: elapsed,
                    ..Timings::default()
                },
                failure: Some(Box::new(failure)),
            },
        );
    }

    /// The tenant's entries, oldest first: the last `limit` of them (all if
    /// `None`), only those of `composition` if given.
    pub(crate) fn list(
        &self,
        tenant: &str,
        composition: Option<&str>,
        limit: Option<usize>,
    ) -> Vec<Value> {
        let rings = self.rings();
        let Some(ring) = rings.get(tenant) else {
            return Vec::new();
        };
        let matching: Vec<&Entry> = ring
            .iter()
            .filter(|e| composition.is_none_or(|c| &*e.composition == c))
            .collect();
        let skip = limit.map_or(0, |l| matching.len().saturating_sub(l));
        matching
            .into_iter()
            .skip(skip)
            .map(Entry::to_json)
            .collect()
    }
}

impl Entry {
    fn to_json(&self) -> Value {
        let at_unix_ms = self
            .at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let t = &self.timings;
        let mut value = json!({
            "at_unix_ms": at_unix_ms,
            "composition": &*self.composition,
            "outcome": self.outcome,
            "timings_us": {
                "queued": micros(t.queued),
                "fetching": micros(t.fetching),
                "sandbox": micros(t.sandbox),
                "compute": micros(t.compute),
                "storing": micros(t.storing),
                "total": micros(t.total),
            },
            "fetch_cache_hits": t.fetch_cache_hits,
            "error": null,
        });
        if let Some(f) = &self.failure {
            value["error"] = json!({
                "message": f.message,
                "application": f.application,
                "shard": f.shard,
                "failure": f.kind,
            });
        }
        value
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// `text` cut to at most `max` bytes on a character boundary, marked with `…`
/// when cut (the end of a message is usually its least useful part).
fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(name: &str) -> Arc<str> {
        Arc::from(name)
    }

    #[test]
    fn rings_are_bounded_per_tenant_and_separate() {
        let log = InvocationLog::new(3);
        let (a, b) = (tenant("a"), tenant("b"));
        for i in 0..5 {
            log.record_ok(&a, &format!("C{i}"), SystemTime::now(), &Timings::default());
        }
        let error = EngineError::UnknownComposition {
            name: "Nope".into(),
        };
        log.record_error(
            &b,
            "Nope",
            SystemTime::now(),
            Duration::from_micros(7),
            &error,
        );
        let names: Vec<Value> = log
            .list("a", None, None)
            .iter()
            .map(|e| e["composition"].clone())
            .collect();
        assert_eq!(names, [json!("C2"), json!("C3"), json!("C4")]);
        assert_eq!(log.list("a", None, Some(1))[0]["composition"], json!("C4"));
        assert_eq!(log.list("a", Some("C3"), None).len(), 1);
        let b_entries = log.list("b", None, None);
        assert_eq!(b_entries.len(), 1);
        assert_eq!(b_entries[0]["outcome"], json!("unknown_composition"));
        assert_eq!(b_entries[0]["timings_us"]["total"], json!(7));
        assert!(log.list("c", None, None).is_empty());
        let off = InvocationLog::new(0);
        off.record_ok(&a, "C", SystemTime::now(), &Timings::default());
        assert!(off.list("a", None, None).is_empty());
    }

    #[test]
    fn long_text_is_cut_on_a_char_boundary() {
        let text = "é".repeat(3000);
        let cut = truncate(&text, MAX_MESSAGE_BYTES);
        assert!(cut.len() <= MAX_MESSAGE_BYTES);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("short", 10), "short");
    }
}
