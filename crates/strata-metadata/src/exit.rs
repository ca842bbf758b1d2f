//! Strata's exit codes, one public set, and the kinds of error that map to them.

/// How a Strata command ends, as its process exit code.
///
/// With `--plan` and `status --detailed-exitcode`, [`Exit::Changes`] says "changes pending";
/// it is never shared with a failure or with bad input, so a script can tell "would change"
/// from "could not tell".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exit {
    /// 0: done.
    Success,
    /// 1: a phase or an external command failed (a plan that could not be made included).
    Failed,
    /// 2: invalid input or configuration.
    Invalid,
    /// 3: the environment is locked by another run.
    Locked,
    /// 4: a plan or diff was made and found changes.
    Changes,
    /// 130: interrupted (Ctrl-C).
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failed => 1,
            Exit::Invalid => 2,
            Exit::Locked => 3,
            Exit::Changes => 4,
            Exit::Interrupted => 130,
        }
    }
}

/// What kind of failure an error is: every library error has one, and it decides the exit
/// code through [`ErrorKind::exit`], the one mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The input or configuration is wrong: the user must change a file or an argument.
    Invalid,
    /// Something ran and failed, or the system refused (I/O, an external tool, the network).
    Failed,
    /// Another run holds the lock.
    Locked,
    /// The user stopped it.
    Interrupted,
}

impl ErrorKind {
    /// The exit code of a command that ends with an error of this kind.
    pub fn exit(self) -> Exit {
        match self {
            ErrorKind::Invalid => Exit::Invalid,
            ErrorKind::Failed => Exit::Failed,
            ErrorKind::Locked => Exit::Locked,
            ErrorKind::Interrupted => Exit::Interrupted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_set() {
        let all = [
            Exit::Success,
            Exit::Failed,
            Exit::Invalid,
            Exit::Locked,
            Exit::Changes,
            Exit::Interrupted,
        ];
        assert_eq!(all.map(Exit::code), [0, 1, 2, 3, 4, 130]);
        assert_eq!(ErrorKind::Invalid.exit(), Exit::Invalid);
        assert_eq!(ErrorKind::Locked.exit().code(), 3);
    }
}
