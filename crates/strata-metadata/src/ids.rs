//! Identifiers that end up in paths: environment and package ids.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// The pattern every environment and package id matches. Ids become directory names, so the
/// pattern keeps them to one lowercase path segment.
pub const ID_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,62}$";

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    /// What kind of id was being checked ("environment id", "package id").
    pub what: &'static str,
    /// The offending value, shortened when very long.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} `{}`: {} (ids match {ID_PATTERN})",
            self.what, self.value, self.reason
        )
    }
}

impl std::error::Error for IdError {}

fn check_id(what: &'static str, value: &str) -> Result<(), IdError> {
    let err = |reason| {
        let shown = if value.chars().count() > 40 {
            format!("{}…", value.chars().take(40).collect::<String>())
        } else {
            value.to_owned()
        };
        Err(IdError {
            what,
            value: shown,
            reason,
        })
    };
    if value.is_empty() {
        return err("it is empty");
    }
    if value.len() > 63 {
        return err("it is longer than 63 characters");
    }
    if value.contains('/') || value.contains('\\') || value.contains("..") {
        return err("it would leave its directory");
    }
    if value.chars().any(|c| c.is_ascii_uppercase()) {
        return err("it has uppercase letters");
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return err("only lowercase letters, digits and `-` are allowed");
    }
    if value.starts_with('-') {
        return err("it starts with `-`");
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks `value` against [`ID_PATTERN`].
            pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                check_id($what, &value)?;
                Ok(Self(value))
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string", "pattern": ID_PATTERN })
            }
        }
    };
}

id_type!(
    /// An environment id such as `development`: one lowercase path segment.
    EnvironmentId,
    "environment id"
);
id_type!(
    /// A config package id such as `core`; it is also the package's folder name.
    PackageId,
    "package id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_ids() {
        for ok in ["development", "prod-eu-1", "0", &"a".repeat(63)] {
            assert!(EnvironmentId::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_hostile_ids_with_a_reason() {
        let cases = [
            ("", "it is empty"),
            ("../prod", "it would leave its directory"),
            ("Dev", "it has uppercase letters"),
            ("-dev", "it starts with `-`"),
            (
                "dev_1",
                "only lowercase letters, digits and `-` are allowed",
            ),
            ("dév", "only lowercase letters, digits and `-` are allowed"),
        ];
        for (value, reason) in cases {
            assert_eq!(
                EnvironmentId::new(value).unwrap_err().reason,
                reason,
                "{value}"
            );
        }
        let long = "a".repeat(200);
        let err = EnvironmentId::new(long).unwrap_err();
        assert_eq!(err.reason, "it is longer than 63 characters");
        assert!(err.to_string().len() < 150, "a long id is shortened: {err}");
    }
}
