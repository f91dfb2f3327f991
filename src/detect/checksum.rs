//! TEMPORARY STUB (replaced by the real validators).
pub const NAMES: &[&str] = &["openai-marker", "github-crc32", "aws-secret"];
pub fn validate(name: &str, _secret: &[u8]) -> Option<bool> {
    NAMES.contains(&name).then_some(true)
}
