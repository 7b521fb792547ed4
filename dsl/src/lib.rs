//! pappus-dsl (under construction).
