//! Receipt codes.
use std::fmt;

/// A receipt code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReceiptCode(String);

/// A device's receipt prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DevicePrefix(String);

impl DevicePrefix {
    /// A random prefix.
    pub fn random() -> DevicePrefix { DevicePrefix("ABCD".into()) }
    /// Parses.
    pub fn parse(s: &str) -> Option<DevicePrefix> { Some(DevicePrefix(s.into())) }
    /// As str.
    pub fn as_str(&self) -> &str { &self.0 }
}

impl ReceiptCode {
    /// Makes.
    pub fn new(prefix: &DevicePrefix, counter: u32) -> ReceiptCode { ReceiptCode(format!("{}{counter:05}", prefix.0)) }
    /// Parses.
    pub fn parse(s: &str) -> Result<ReceiptCode, crate::validation::Issue> { Ok(ReceiptCode(s.into())) }
    /// As str.
    pub fn as_str(&self) -> &str { &self.0 }
}

impl fmt::Display for ReceiptCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(&self.0) }
}
