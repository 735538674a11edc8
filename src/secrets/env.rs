//! `env:VAR`: a secret handed over in an environment variable, for scripts
//! and CI that already hold it there.

use super::{Secret, SourceError};

/// The value of `name`; unset, empty and non-UTF-8 values are errors.
/// From now on, no child process inherits the variable.
pub(crate) fn read(name: &str) -> Result<Secret, SourceError> {
    crate::process::withhold_env(name);
    let value = std::env::var_os(name).ok_or_else(|| SourceError::EnvUnset {
        name: name.to_owned(),
    })?;
    let value = value.into_string().map_err(|_| SourceError::NotUtf8)?;
    if value.is_empty() {
        return Err(SourceError::Empty);
    }
    Ok(Secret::new(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_variable_is_the_secret_and_an_unset_one_is_named() {
        // Names used by this test alone: tests run in parallel.
        std::env::set_var("PB_TEST_SECRET_ENV_SET", "hunter2");
        assert_eq!(read("PB_TEST_SECRET_ENV_SET").unwrap().expose(), "hunter2");
        let err = read("PB_TEST_SECRET_ENV_UNSET").unwrap_err().to_string();
        assert_eq!(
            err,
            "environment variable PB_TEST_SECRET_ENV_UNSET is not set"
        );
        std::env::set_var("PB_TEST_SECRET_ENV_EMPTY", "");
        assert!(matches!(
            read("PB_TEST_SECRET_ENV_EMPTY"),
            Err(SourceError::Empty)
        ));
    }
}
