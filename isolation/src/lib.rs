//! pappus-isolation (under construction).
