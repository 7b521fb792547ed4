//! The `fetch` series: the tenants' fetch cache and the bounds on fetched
//! bytes held in memory (`docs/dataplane.md`, `docs/io.md`).

use pappus_io::IoStats;

/// One series: name, type, help, value.
pub(super) type Series = (&'static str, &'static str, &'static str, u64);

/// The fetch cache's and the fetch budgets' series, from the I/O runtime's
/// counters (all zero before its first call).
pub(super) fn series(io: &IoStats) -> [Series; 8] {
    [
        (
            "pappus_fetch_cache_hits_total",
            "counter",
            "Fetches answered from the fetch cache after a 304 Not Modified (no body transferred).",
            io.cache_hits,
        ),
        (
            "pappus_fetch_cache_misses_total",
            "counter",
            "Fetches through the fetch cache that transferred the object (no entry, or it changed).",
            io.cache_misses,
        ),
        (
            "pappus_fetch_cache_evictions_total",
            "counter",
            "Fetch cache entries evicted to stay within the per-tenant and per-node bounds.",
            io.cache_evictions,
        ),
        (
            "pappus_fetch_cache_bytes",
            "gauge",
            "Bytes the fetch cache holds on disk, all tenants.",
            io.cache_bytes,
        ),
        (
            "pappus_fetch_cache_bytes_saved_total",
            "counter",
            "Body bytes fetch cache hits did not transfer.",
            io.cache_bytes_saved,
        ),
        (
            "pappus_fetch_memory_bytes",
            "gauge",
            "Bytes of fetched objects held in memory, within io_fetch_memory_mib.",
            io.fetch_memory_bytes,
        ),
        (
            "pappus_fetch_spills_total",
            "counter",
            "Fetched objects written to a spill file because the memory budgets did not cover them.",
            io.spills,
        ),
        (
            "pappus_fetch_spill_bytes",
            "gauge",
            "Bytes of spill files alive, within io_spill_mib.",
            io.spill_bytes,
        ),
    ]
}
