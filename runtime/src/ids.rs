//! The one source of random identifiers: execution and instance ids (UUID v4 text) and
//! tokens, all from the operating system's randomness.

use crate::error::ServiceError;

/// `N` random bytes; an error names what they were for.
pub fn random<const N: usize>(what: &str) -> Result<[u8; N], ServiceError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| ServiceError::Internal(format!("no randomness for {what}: {e}")))?;
    Ok(bytes)
}

/// A random id in the UUID v4 text form.
pub fn new_id() -> Result<String, ServiceError> {
    let mut b = random::<16>("an id")?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_uuid_v4_text_and_differ() {
        let (a, b) = (super::new_id().unwrap(), super::new_id().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4", "{a}");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }
}
