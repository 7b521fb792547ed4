//! pappus-io (under construction).
