//! Finding external tools on `PATH` or through their `STRATA_*` override.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::{Command, ExecError, PROBE_TIMEOUT, RunOptions, run};

/// An external tool, as the crate that drives it declares it (`strata_terraform::TERRAFORM`):
/// this crate keeps the mechanism that finds tools, not a list of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// What it is called in messages (`terraform`).
    pub name: &'static str,
    /// The variable that overrides it (`STRATA_TERRAFORM`).
    pub env_var: &'static str,
    /// Program names tried on `PATH`, in order (`terraform`, then `tofu`).
    pub candidates: &'static [&'static str],
    /// Arguments that make it print its version.
    pub version_args: &'static [&'static str],
}

/// A tool that was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundTool {
    /// Which tool.
    pub tool: Tool,
    /// The executable.
    pub path: PathBuf,
    /// Whether the override variable chose it.
    pub from_override: bool,
}

/// Finds `tool` through its override variable, else on `PATH`.
pub fn find_tool(tool: &Tool) -> Result<FoundTool, ExecError> {
    find_tool_with(tool, |key| std::env::var_os(key))
}

/// [`find_tool`] with the environment given as a function, for tests and embedding.
pub fn find_tool_with(
    tool: &Tool,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<FoundTool, ExecError> {
    let path_var = env("PATH").unwrap_or_default();
    if let Some(value) = env(tool.env_var).filter(|v| !v.is_empty()) {
        let as_path = PathBuf::from(&value);
        let found = if as_path.components().count() > 1 {
            is_executable(&as_path).then_some(as_path)
        } else {
            search_path(&path_var, &value.to_string_lossy())
        };
        return found
            .map(|path| FoundTool {
                tool: *tool,
                path,
                from_override: true,
            })
            .ok_or_else(|| ExecError::BadOverride {
                env_var: tool.env_var,
                value: value.to_string_lossy().into_owned(),
            });
    }
    tool.candidates
        .iter()
        .find_map(|name| search_path(&path_var, name))
        .map(|path| FoundTool {
            tool: *tool,
            path,
            from_override: false,
        })
        .ok_or_else(|| ExecError::ToolNotFound {
            tool: tool.candidates.join("` or `"),
            env_var: tool.env_var,
        })
}

fn search_path(path_var: &std::ffi::OsStr, name: &str) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Asks a found tool for its version; returns the first line that holds one, and the parsed
/// `major.minor[.patch]`.
pub fn tool_version(found: &FoundTool, cwd: &Path) -> Result<(String, Option<String>), ExecError> {
    let cmd = Command::new(&found.path, cwd)
        .args(found.tool.version_args.iter().copied())
        // Terraform phones home for update checks unless told not to.
        .env("CHECKPOINT_DISABLE", "1");
    let out = run(
        &cmd,
        &RunOptions {
            capture_stdout: true,
            timeout: Some(PROBE_TIMEOUT),
            ..RunOptions::default()
        },
    )?;
    let line = out
        .stdout
        .lines()
        .find(|l| parse_version(l).is_some())
        .or_else(|| out.stdout.lines().next())
        .unwrap_or_default()
        .trim()
        .to_owned();
    let version = parse_version(&line);
    Ok((line, version))
}

/// The first `N.N` or `N.N.N` in `text`, without a leading `v`.
pub fn parse_version(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit()
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'v')
        {
            let start = i;
            let mut dots = 0;
            while i < bytes.len()
                && (bytes[i].is_ascii_digit()
                    || (bytes[i] == b'.'
                        && dots < 2
                        && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)))
            {
                dots += usize::from(bytes[i] == b'.');
                i += 1;
            }
            if dots >= 1 {
                return Some(text[start..i].to_owned());
            }
        }
        i += 1;
    }
    None
}

/// `~/x` relative to `$HOME`, as a shell would expand it for a program's argument.
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_versions_tools_print() {
        let cases = [
            ("Terraform v1.11.4", "1.11.4"),
            ("OpenTofu v1.8.0", "1.8.0"),
            ("Docker version 28.2.2, build e6534b4", "28.2.2"),
            ("ansible-playbook [core 2.19.0]", "2.19.0"),
            ("v3.16.2+g13654a5", "3.16.2"),
            ("Client Version: v1.31.0", "1.31.0"),
            ("qemu-img version 10.0.2 (Debian 1:10.0.2+ds-2)", "10.0.2"),
            ("Packer v1.6.6", "1.6.6"),
        ];
        for (text, want) in cases {
            assert_eq!(parse_version(text).as_deref(), Some(want), "{text}");
        }
        assert_eq!(parse_version("x86_64 build"), None);
    }
}
