//! Where the store lives when the user does not say.

use std::ffi::OsString;
use std::path::PathBuf;

pub const HOME_ENV: &str = "WASMPOD_HOME";

/// `$WASMPOD_HOME`, else `$XDG_DATA_HOME/wasmpod`, else `$HOME/.local/share/wasmpod`.
pub fn default_home() -> PathBuf {
    home_from(
        std::env::var_os(HOME_ENV),
        std::env::var_os("XDG_DATA_HOME"),
        std::env::var_os("HOME").or_else(|| std::env::home_dir().map(Into::into)),
    )
}

/// The rule behind [`default_home`], with the environment passed in.
pub fn home_from(
    wasmpod_home: Option<OsString>,
    xdg_data_home: Option<OsString>,
    home: Option<OsString>,
) -> PathBuf {
    let set = |value: Option<OsString>| value.filter(|value| !value.is_empty()).map(PathBuf::from);
    if let Some(explicit) = set(wasmpod_home) {
        return explicit;
    }
    // The XDG spec says relative values must be ignored.
    if let Some(xdg) = set(xdg_data_home).filter(|xdg| xdg.is_absolute()) {
        return xdg.join("wasmpod");
    }
    match set(home) {
        Some(home) => home.join(".local/share/wasmpod"),
        // No home at all (a bare container): keep the store next to the working directory.
        None => PathBuf::from(".wasmpod"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(text: &str) -> Option<OsString> {
        Some(text.into())
    }

    #[test]
    fn precedence() {
        assert_eq!(home_from(os("/w"), os("/x"), os("/h")), PathBuf::from("/w"));
        assert_eq!(
            home_from(None, os("/x"), os("/h")),
            PathBuf::from("/x/wasmpod")
        );
        assert_eq!(
            home_from(os(""), os(""), os("/h")),
            PathBuf::from("/h/.local/share/wasmpod")
        );
        assert_eq!(
            home_from(None, os("rel"), os("/h")),
            PathBuf::from("/h/.local/share/wasmpod")
        );
        assert_eq!(home_from(None, None, None), PathBuf::from(".wasmpod"));
    }
}
