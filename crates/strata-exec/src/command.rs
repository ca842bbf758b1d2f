//! Commands as data, rendered shell-quoted with secrets masked.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

const MASK: &str = "***";

#[derive(Debug, Clone, PartialEq, Eq)]
struct Part {
    value: OsString,
    secret: bool,
}

impl Part {
    fn new(value: impl Into<OsString>, secret: bool) -> Self {
        Self {
            value: value.into(),
            secret,
        }
    }

    /// As people see it: `***` for a secret, else the value (lossily, if it is not UTF-8).
    fn shown(&self) -> String {
        if self.secret {
            MASK.to_owned()
        } else {
            self.value.to_string_lossy().into_owned()
        }
    }
}

/// An external command: what to run, where, and with which changes to the environment.
///
/// The working directory is required: a command never depends on where Strata was started.
/// Children inherit Strata's environment, less the variables removed here, plus the variables
/// set here. Arguments and values are OS strings: a path that is not UTF-8 reaches the child
/// as it is (messages show it lossily).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    program: PathBuf,
    args: Vec<Part>,
    cwd: PathBuf,
    env: Vec<(OsString, Part)>,
    env_removed: Vec<OsString>,
}

impl Command {
    /// A command running `program` in `cwd`.
    pub fn new(program: impl Into<PathBuf>, cwd: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            cwd: cwd.into(),
            env: Vec::new(),
            env_removed: Vec::new(),
        }
    }

    /// Appends an argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(Part::new(arg, false));
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args
            .extend(args.into_iter().map(|a| Part::new(a, false)));
        self
    }

    /// Appends an argument that is shown as `***` everywhere.
    pub fn secret_arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(Part::new(arg, true));
        self
    }

    /// Sets an environment variable for the child (undoing an [`env_remove`](Self::env_remove)
    /// of it).
    pub fn env(self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.set_env(key.into(), Part::new(value, false))
    }

    /// Sets an environment variable whose value is shown as `***` everywhere.
    pub fn secret_env(self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.set_env(key.into(), Part::new(value, true))
    }

    fn set_env(mut self, key: OsString, value: Part) -> Self {
        self.env_removed.retain(|k| *k != key);
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value));
        self
    }

    /// Removes a variable the child would inherit from Strata (undoing an earlier
    /// [`env`](Self::env) of it): a tool that must not see a credential or a setting meant
    /// for Strata.
    pub fn env_remove(mut self, key: impl Into<OsString>) -> Self {
        let key = key.into();
        self.env.retain(|(k, _)| *k != key);
        if !self.env_removed.contains(&key) {
            self.env_removed.push(key);
        }
        self
    }

    /// The program.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The working directory.
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// The real arguments, secrets included: only for spawning.
    pub(crate) fn raw_args(&self) -> impl Iterator<Item = &OsStr> {
        self.args.iter().map(|p| p.value.as_os_str())
    }

    /// The real environment additions, secrets included: only for spawning.
    pub(crate) fn raw_env(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.env
            .iter()
            .map(|(k, p)| (k.as_os_str(), p.value.as_os_str()))
    }

    /// The variables removed from the inherited environment.
    pub fn removed_env(&self) -> impl Iterator<Item = &OsStr> {
        self.env_removed.iter().map(OsString::as_os_str)
    }

    /// The arguments as shown to people: secrets masked.
    pub fn shown_args(&self) -> Vec<String> {
        self.args.iter().map(Part::shown).collect()
    }

    /// The environment additions as shown to people: secret values masked.
    pub fn shown_env(&self) -> Vec<(String, String)> {
        self.env
            .iter()
            .map(|(k, p)| (k.to_string_lossy().into_owned(), p.shown()))
            .collect()
    }

    /// Every secret value this command carries, longest first, for masking output. A secret
    /// argument written `key=value` (`-var=token=…`) also masks its value alone, because tools
    /// echo the value without the flag.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let mut s: Vec<String> = Vec::new();
        for p in self.args.iter().chain(self.env.iter().map(|(_, p)| p)) {
            if !p.secret || p.value.is_empty() {
                continue;
            }
            // Output is masked as text; a secret that is not UTF-8 is masked as it would read.
            let value = p.value.to_string_lossy().into_owned();
            // Short tails ("=1") would mask ordinary output; real secrets are longer.
            if let Some((_, tail)) = value.rsplit_once('=').filter(|(_, v)| v.len() >= 6) {
                s.push(tail.to_owned());
            }
            s.push(value);
        }
        s.sort_by_key(|v| std::cmp::Reverse(v.len()));
        s
    }

    /// Replaces every secret of this command in `text` with `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in self.secrets() {
            out = out.replace(&secret, MASK);
        }
        out
    }

    /// The command line, shell-quoted, secrets masked, without environment or directory:
    /// `terraform -chdir=infra plan -input=false`.
    pub fn display(&self) -> String {
        let mut line = shell_quote(&self.program.to_string_lossy());
        for arg in self.shown_args() {
            line.push(' ');
            line.push_str(&shell_quote(&arg));
        }
        line
    }
}

impl fmt::Display for Command {
    /// `cd DIR && [env -u GONE] KEY=value program args…`, the way a person would retype it;
    /// secrets masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cd {} && ", shell_quote(&self.cwd.to_string_lossy()))?;
        if !self.env_removed.is_empty() {
            f.write_str("env")?;
            for k in &self.env_removed {
                write!(f, " -u {}", shell_quote(&k.to_string_lossy()))?;
            }
            f.write_str(" ")?;
        }
        for (k, v) in self.shown_env() {
            write!(f, "{k}={} ", shell_quote(&v))?;
        }
        f.write_str(&self.display())
    }
}

/// Quotes `s` for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=@%+,^".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_and_masks() {
        let cmd = Command::new("terraform", "/repo/infra")
            .args(["-chdir=nodes", "plan", "-var", "name=two words"])
            .secret_arg("-var=token=abc123")
            .env("TF_IN_AUTOMATION", "1")
            .secret_env("PROXMOX_VE_API_TOKEN", "root@pam!ci=abc123");
        assert_eq!(
            cmd.display(),
            "terraform -chdir=nodes plan -var 'name=two words' '***'"
        );
        assert_eq!(
            cmd.to_string(),
            "cd /repo/infra && TF_IN_AUTOMATION=1 PROXMOX_VE_API_TOKEN='***' terraform -chdir=nodes plan -var 'name=two words' '***'"
        );
        assert_eq!(
            cmd.redact("token root@pam!ci=abc123 and -var=token=abc123"),
            "token *** and ***"
        );
    }

    #[test]
    fn quote_handles_single_quotes_and_empty() {
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("a/b.c"), "a/b.c");
    }
}
