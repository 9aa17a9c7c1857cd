//! The CodeDeploy smoke-test hook's decisions (DESIGN.md §2): which version a deployment
//! shifts to, what the smoke plan expects, whether a probe passed, and the verdict the hook
//! reports and publishes. Pure functions over plain types; the hook crate does the I/O.

pub mod alarms;
pub mod appspec;
pub mod event;
pub mod plan;
pub mod probe;
pub mod verdict;
