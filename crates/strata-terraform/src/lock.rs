//! Terraform's state lock, held by someone else: who, from the "Lock Info" block terraform and
//! tofu print when `-lock-timeout` runs out.

use strata_exec::ExecError;

/// The line terraform and tofu print when they cannot take the state lock.
pub const STATE_LOCK_ERROR: &str = "Error acquiring the state lock";

/// What terraform said about a state lock it could not take: its `Error message:` and the
/// fields of its `Lock Info:` block (`ID`, `Path`, `Operation`, `Who`, `Created`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockInfo {
    /// The backend's reason (`Error message:`), such as `resource temporarily unavailable`.
    pub message: String,
    /// The lock's id, for `terraform force-unlock`.
    pub id: String,
    /// The state the lock guards, where the backend says.
    pub path: String,
    /// The operation that holds it (`OperationTypeApply`).
    pub operation: String,
    /// `user@host` of the holder, where the backend records it.
    pub who: String,
    /// When it was taken.
    pub created: String,
}

impl LockInfo {
    /// Reads the lock error out of a failed terraform command's output, if that is why it
    /// failed.
    pub fn from_failure(err: &ExecError) -> Option<Self> {
        let ExecError::Failed {
            stdout_tail,
            stderr_tail,
            ..
        } = err
        else {
            return None;
        };
        let lines: Vec<&str> = stderr_tail
            .iter()
            .chain(stdout_tail)
            .map(String::as_str)
            .collect();
        if !lines.iter().any(|l| l.contains(STATE_LOCK_ERROR)) {
            return None;
        }
        Some(Self::parse(&lines))
    }

    /// The fields of terraform's lock error text, one `Key: value` per line.
    pub fn parse(lines: &[&str]) -> Self {
        let field = |key: &str| {
            lines
                .iter()
                .find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim().to_owned()))
                .unwrap_or_default()
        };
        Self {
            message: field("Error message:"),
            id: field("ID:"),
            path: field("Path:"),
            operation: field("Operation:"),
            who: field("Who:"),
            created: field("Created:"),
        }
    }

    /// Who holds the lock, when terraform's text names them. The `pg` backend's lock is a
    /// PostgreSQL advisory lock that records nobody: its refusal ("Workspace is already
    /// locked", "already locked for workspace creation") prints the lock this run asked for,
    /// so its `Who:` is the one asking, not the holder.
    pub fn holder(&self) -> Option<&str> {
        let pg = self.message.contains("Workspace is already locked")
            || self
                .message
                .contains("already locked for workspace creation");
        (!pg && !self.who.is_empty()).then_some(self.who.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What terraform 1.11 prints with `-no-color` when the local backend's lock is held.
    const LOCAL: &str = "
Error: Error acquiring the state lock

Error message: resource temporarily unavailable
Lock Info:
  ID:        1adb7b20-b02a-a811-684c-877f6659dd06
  Path:      terraform.tfstate
  Operation: OperationTypeApply
  Who:       alice@ci-runner-7
  Version:   1.11.4
  Created:   2026-12-01 23:59:33.911175702 +0000 UTC
  Info:      


Terraform acquires a state lock to protect the state from being written
by multiple users at the same time.";

    #[test]
    fn the_holder_is_read_from_the_lock_info_unless_the_backend_records_none() {
        let lines: Vec<&str> = LOCAL.lines().collect();
        let info = LockInfo::parse(&lines);
        assert_eq!(info.id, "1adb7b20-b02a-a811-684c-877f6659dd06");
        assert_eq!(info.operation, "OperationTypeApply");
        assert_eq!(info.created, "2026-12-01 23:59:33.911175702 +0000 UTC");
        assert_eq!(info.holder(), Some("alice@ci-runner-7"));
        let pg = LOCAL.replace(
            "resource temporarily unavailable",
            "Workspace is already locked: default",
        );
        let lines: Vec<&str> = pg.lines().collect();
        assert_eq!(LockInfo::parse(&lines).holder(), None);
    }
}
