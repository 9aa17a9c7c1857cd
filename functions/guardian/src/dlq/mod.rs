//! (filled in by the dlq issue)
