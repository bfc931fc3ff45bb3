//! A per-thread buffer where a lookup key made of several parts is written, so that a map
//! keyed by strings is searched without building a string for every request.

use std::cell::RefCell;

thread_local! {
    static KEY: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Calls `f` with `parts` written one after another (in a fresh string if the buffer is in
/// use already, which a nested call would find).
pub fn joined<R>(parts: &[&str], f: impl FnOnce(&str) -> R) -> R {
    KEY.with(|key| match key.try_borrow_mut() {
        Ok(mut key) => {
            key.clear();
            for part in parts {
                key.push_str(part);
            }
            f(&key)
        }
        Err(_) => f(&parts.concat()),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn parts_are_joined_and_a_nested_call_gets_its_own_string() {
        let outer = super::joined(&["a", "://", "b"], |k| {
            let inner = super::joined(&["x", "y"], str::to_string);
            format!("{k} {inner}")
        });
        assert_eq!(outer, "a://b xy");
    }
}
