//! Integration tests of pappus-dsl, one module per feature.

mod smoke;
