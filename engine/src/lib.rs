//! pappus-engine (under construction).
