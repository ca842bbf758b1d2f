//! `config/state-backend.json`: where a repository keeps Strata's own run state, deploy lock and
//! run history. Committed, so every checkout (laptops, CI runners) uses the same backend; it
//! never holds the connection string, which comes only from the environment.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The schema version of `config/state-backend.json` this Strata reads and writes.
pub const STATE_BACKEND_SCHEMA_VERSION: u32 = 1;

/// `config/state-backend.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateBackendConfig {
    /// Always 1.
    pub schema_version: u32,
    /// Which backend.
    pub backend: StateBackendKind,
    /// PostgreSQL only: the schema Strata creates and owns in the database (a lowercase SQL
    /// identifier); `strata` when absent. Two repositories sharing one database use two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

/// The kinds of state backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StateBackendKind {
    /// Files under `.strata/<env>/` of the checkout, the lock an OS file lock (the default).
    #[default]
    Local,
    /// Strata's own schema in a PostgreSQL database, the lock a session advisory lock.
    Postgres,
}

impl StateBackendKind {
    /// Its spelling in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            StateBackendKind::Local => "local",
            StateBackendKind::Postgres => "postgres",
        }
    }
}
