//! Benchmarks and the load generator for Pappus (under construction).
