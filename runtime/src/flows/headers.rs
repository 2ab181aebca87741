//! The headers an execution may be started with (seed 004's `headers`): checked at the
//! start so that every HTTP task can send them as they are.

use std::collections::BTreeMap;

use crate::error::ServiceError;

/// Most headers one execution may carry.
pub const MAX_HEADERS: usize = 32;
/// Most bytes of names and values together.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

/// `Ok` when every name is an HTTP token and every value visible text, within the caps.
pub fn check(headers: &BTreeMap<String, String>) -> Result<(), ServiceError> {
    let invalid = |m: String| Err(ServiceError::InvalidArgument(m));
    if headers.len() > MAX_HEADERS {
        return invalid(format!("at most {MAX_HEADERS} headers, not {}", headers.len()));
    }
    let bytes: usize = headers.iter().map(|(k, v)| k.len() + v.len()).sum();
    if bytes > MAX_HEADER_BYTES {
        return invalid(format!("the headers take {bytes} bytes; at most {MAX_HEADER_BYTES}"));
    }
    for (name, value) in headers {
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if name.is_empty() || !name.bytes().all(token) {
            return invalid(format!("header name {name:?} is not an HTTP token"));
        }
        if !value.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)) {
            return invalid(format!("header {name}: its value must be visible ASCII text"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn names_values_and_sizes_are_checked() {
        assert!(check(&of(&[("tenantid", "user1"), ("X-Trace", "a b")])).is_ok());
        assert!(check(&of(&[("bad name", "x")])).is_err());
        assert!(check(&of(&[("", "x")])).is_err());
        assert!(check(&of(&[("x", "line\r\nInjected: 1")])).is_err());
        let many: Vec<(String, String)> = (0..=MAX_HEADERS).map(|i| (format!("h{i}"), "v".into())).collect();
        assert!(check(&many.into_iter().collect()).is_err());
        assert!(check(&of(&[("big", &"v".repeat(MAX_HEADER_BYTES + 1))])).is_err());
    }
}
