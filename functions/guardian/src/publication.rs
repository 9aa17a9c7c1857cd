//! A message for an SNS topic, in plain types: what the cores render and the SNS adapter
//! publishes.

use std::collections::BTreeMap;

/// One message for a topic. `message` is either plain text or, with `per_protocol`, a JSON
/// object of per-protocol renderings (`MessageStructure=json`; it must have `default`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Publication {
    pub subject: Option<String>,
    pub message: String,
    pub per_protocol: bool,
    /// String attributes for subscription filter policies.
    pub attributes: BTreeMap<String, String>,
}
