//! (filled in by the hook issue)
