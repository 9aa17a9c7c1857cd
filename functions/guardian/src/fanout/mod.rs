//! (filled in by the fanout issue)
