//! The command reference (`docs/reference/cli.md`) and shell completions, both generated from
//! the CLI definition so they cannot drift from it.

use clap::CommandFactory as _;
#[cfg(test)]
use clap::{Arg, Command};

use crate::Exit;
use crate::cli::{Cli, ShellArg};

/// The name completions are generated for: the built binary, or an alias of `cargo xtask`.
const COMPLETION_NAME: &str = "xtask";

pub(crate) fn completions(shell: ShellArg) -> anyhow::Result<Exit> {
    let mut cmd = Cli::command();
    let shell = match shell {
        ShellArg::Bash => clap_complete::Shell::Bash,
        ShellArg::Zsh => clap_complete::Shell::Zsh,
        ShellArg::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut cmd, COMPLETION_NAME, &mut std::io::stdout());
    Ok(Exit::Success)
}

/// The Markdown reference of every command and flag (written by the test below).
#[cfg(test)]
fn cli_markdown() -> String {
    let root = Cli::command();
    let mut out = String::from(
        "# Command reference\n\n\
         Generated from the CLI definition (`xtask/src/cli.rs`); a test fails when this file is\n\
         stale (`cargo test -p xtask` rewrites it locally). Every command also prints its own\n\
         `--help`.\n\n",
    );
    out.push_str("Global options, accepted by every command:\n\n");
    table(&mut out, root.get_arguments().filter(|a| a.is_global_set()));
    let mut commands = Vec::new();
    collect(&root, "cargo xtask", &mut commands);
    out.push_str("\n## Commands\n\n");
    for (path, _) in &commands {
        let anchor = path.replace(' ', "-");
        out.push_str(&format!("- [`{path}`](#{anchor})\n"));
    }
    for (path, cmd) in commands {
        out.push_str(&format!("\n## {path}\n\n"));
        if let Some(about) = cmd.get_about() {
            out.push_str(&format!("{about}\n\n"));
        }
        let mut usage_cmd = cmd.clone().bin_name(&path);
        out.push_str(&format!(
            "```\n{}\n```\n\n",
            usage_cmd
                .render_usage()
                .to_string()
                .trim_start_matches("Usage: ")
        ));
        let args: Vec<&Arg> = cmd
            .get_arguments()
            .filter(|a| !a.is_global_set() && !a.is_hide_set())
            .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
            .collect();
        if !args.is_empty() {
            table(&mut out, args.into_iter());
        }
    }
    out
}

/// Every command that does something (leaves of the command tree), with its full path.
#[cfg(test)]
fn collect(cmd: &Command, path: &str, out: &mut Vec<(String, Command)>) {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        let sub_path = format!("{path} {}", sub.get_name());
        if sub.has_subcommands() {
            collect(sub, &sub_path, out);
        } else {
            out.push((sub_path, sub.clone()));
        }
    }
}

#[cfg(test)]
fn table<'a>(out: &mut String, args: impl Iterator<Item = &'a Arg>) {
    out.push_str("| argument | meaning |\n|---|---|\n");
    for arg in args {
        let takes_value = arg.get_action().takes_values();
        let value = arg.get_value_names().map_or_else(
            || format!("<{}>", arg.get_id().as_str().to_uppercase()),
            |v| {
                v.iter()
                    .map(|n| format!("<{n}>"))
                    .collect::<Vec<_>>()
                    .join(" ")
            },
        );
        let name = match (arg.get_short(), arg.get_long()) {
            _ if arg.is_positional() => format!("`<{}>`", arg.get_id().as_str().to_uppercase()),
            (Some(s), Some(l)) => format!("`-{s}`, `--{l}`"),
            (None, Some(l)) => format!("`--{l}`"),
            (Some(s), None) => format!("`-{s}`"),
            (None, None) => format!("`{}`", arg.get_id()),
        };
        let name = if takes_value && !arg.is_positional() {
            format!("{name} `{value}`")
        } else {
            name
        };
        let mut help = arg
            .get_help()
            .map(|h| h.to_string().replace('\n', " "))
            .unwrap_or_default();
        if arg.is_required_set() {
            help.push_str(" (required)");
        }
        let possible: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|p| !p.is_hide_set())
            .map(|p| format!("`{}`", p.get_name()))
            .collect();
        if takes_value && !possible.is_empty() && possible.len() < 12 {
            help.push_str(&format!("; one of {}", possible.join(", ")));
        }
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|d| d.to_string_lossy().into_owned())
            .collect();
        if takes_value && !defaults.is_empty() {
            help.push_str(&format!("; default `{}`", defaults.join(",")));
        }
        out.push_str(&format!("| {name} | {} |\n", help.replace('|', "\\|")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/reference/cli.md` is what the CLI definition says. When it is stale the test
    /// rewrites it (outside CI) and fails, so the change shows in the diff.
    #[test]
    fn the_command_reference_is_up_to_date() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/reference/cli.md");
        let want = cli_markdown();
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != want {
            if std::env::var_os("CI").is_none() {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &want).unwrap();
            }
            panic!(
                "docs/reference/cli.md was stale{}; review and commit it",
                if std::env::var_os("CI").is_none() {
                    " and has been rewritten"
                } else {
                    ""
                }
            );
        }
    }

    #[test]
    fn every_shell_gets_a_completion_script_naming_the_commands() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
        ] {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), COMPLETION_NAME, &mut buf);
            let text = String::from_utf8(buf).unwrap();
            for word in ["deploy", "kubespray", "provision", "env"] {
                assert!(text.contains(word), "{shell}: {word}");
            }
        }
    }
}

#[cfg(test)]
mod doc_commands {
    use clap::Parser as _;

    use crate::cli::Cli;

    /// Placeholders the docs use for values, and a value of the right shape for each.
    const PLACEHOLDERS: [(&str, &str); 16] = [
        ("ENV", "development"),
        ("E", "development"),
        ("PKG", "core"),
        ("P", "images"),
        ("PHASE", "images"),
        ("ROLE", "k8s-worker"),
        ("R", "k8s-worker"),
        ("FILE", "x"),
        ("F", "x"),
        ("DIR", "x"),
        ("D", "x"),
        ("N", "1"),
        ("V", "1.33.5"),
        ("ID", "core"),
        ("HOSTS", "dev-worker-1"),
        ("K=V", "a=b"),
    ];

    /// Splits a command line as a POSIX shell would for the simple cases docs hold: quotes and
    /// backslash-escaped characters.
    fn words(line: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut quote: Option<char> = None;
        let mut in_word = false;
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), c) => cur.push(c),
                (None, '\'' | '"') => {
                    quote = Some(c);
                    in_word = true;
                }
                (None, '\\') => {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                        in_word = true;
                    }
                }
                (None, c) if c.is_whitespace() => {
                    if in_word {
                        out.push(std::mem::take(&mut cur));
                        in_word = false;
                    }
                }
                (None, c) => {
                    cur.push(c);
                    in_word = true;
                }
            }
        }
        if in_word {
            out.push(cur);
        }
        out
    }

    /// The `cargo xtask …` command in `text`, if it is one that can be checked: the words after
    /// `cargo xtask`, up to a shell operator or comment, placeholders replaced.
    fn command(text: &str) -> Option<Vec<String>> {
        let start = text.find("cargo xtask")?;
        let rest = &text[start + "cargo xtask".len()..];
        if rest.contains('…') || rest.contains("...") || rest.contains('<') {
            return None;
        }
        let mut args = Vec::new();
        for w in words(rest) {
            if matches!(
                w.as_str(),
                "|" | "&&" | "&" | ";" | "#" | ">" | "2>/dev/null" | "2>&1"
            ) || w.starts_with('#')
                || w.starts_with("2>")
                || w.starts_with('>')
            {
                break;
            }
            // An alternation (`deploy|reset`) or an optional part (`[--dry-run]`) is a synopsis.
            if w.contains('|') || w.starts_with('[') || w.ends_with(']') || w.starts_with('(') {
                return None;
            }
            // Prose around an inline command: `(… --env development)`.
            let w = w.trim_end_matches([')', ',', ';', ':']).to_owned();
            let w = PLACEHOLDERS
                .iter()
                .find(|(p, _)| *p == w)
                .map_or(w.clone(), |(_, v)| (*v).to_owned());
            args.push(w);
        }
        Some(args)
    }

    /// Every `cargo xtask` command in README.md, ARCHITECTURE.md and docs/ (in code blocks, and in inline code
    /// that is a whole command) parses with the real CLI: a renamed flag or command breaks this
    /// test, not a reader's copy-paste.
    #[test]
    fn every_documented_command_parses() {
        let mut checked = 0;
        let mut failures = Vec::new();
        for file in crate::commands::docs_check::markdown_files() {
            let text = std::fs::read_to_string(&file).unwrap();
            let mut in_code = false;
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("```") {
                    in_code = !in_code;
                    continue;
                }
                let candidates: Vec<&str> = if in_code {
                    vec![line]
                } else {
                    line.split('`').skip(1).step_by(2).collect()
                };
                for c in candidates {
                    let starts = c
                        .trim_start()
                        .trim_start_matches("$ ")
                        .starts_with("cargo xtask");
                    let after_env = in_code && c.contains(" cargo xtask ");
                    if !(starts || after_env) {
                        continue;
                    }
                    let Some(args) = command(c) else { continue };
                    checked += 1;
                    let mut argv = vec!["cargo xtask".to_owned()];
                    argv.extend(args);
                    if let Err(e) = Cli::try_parse_from(&argv) {
                        use clap::error::ErrorKind;
                        // Docs name commands without their required flags, and show clap's own
                        // refusals; what must never happen is a flag, command or value that
                        // does not exist.
                        if matches!(
                            e.kind(),
                            ErrorKind::UnknownArgument
                                | ErrorKind::InvalidSubcommand
                                | ErrorKind::InvalidValue
                                | ErrorKind::ValueValidation
                                | ErrorKind::ArgumentConflict
                                | ErrorKind::TooManyValues
                                | ErrorKind::WrongNumberOfValues
                                | ErrorKind::NoEquals
                        ) {
                            failures.push(format!(
                                "{}:{}: `{}`: {}",
                                file.display(),
                                n + 1,
                                argv[1..].join(" "),
                                e.to_string().lines().next().unwrap_or_default()
                            ));
                        }
                    }
                }
            }
        }
        assert!(
            checked > 50,
            "only {checked} commands found: is the scan broken?"
        );
        assert!(
            failures.is_empty(),
            "{} of {checked} documented commands do not parse:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
