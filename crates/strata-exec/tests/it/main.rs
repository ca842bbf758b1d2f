//! Running real child processes (small stand-in scripts) through `strata_exec`.

use std::ffi::OsString;

use strata_exec::{Command, ExecError, RunOptions, Tool, find_tool_with, run, shell_quote};
use strata_testkit::{TempDir, stand_in, stand_in_calls};

mod stop;

#[test]
fn runs_in_the_given_directory_with_arguments_and_environment() {
    let bin = TempDir::new("exec-bin");
    let work = TempDir::new("exec-work");
    let tool = stand_in(bin.path(), "tool", "hello\n", "", 0);
    let cmd = Command::new(&tool, work.path())
        .args(["plan", "two words"])
        .env("TF_IN_AUTOMATION", "1");
    let out = run(
        &cmd,
        &RunOptions {
            capture_stdout: true,
            ..RunOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        (out.code, out.stdout.as_str(), out.dry_run),
        (0, "hello\n", false)
    );
    let calls = stand_in_calls(bin.path(), "tool");
    assert_eq!(
        calls,
        [vec![
            work.path().display().to_string(),
            "plan".into(),
            "two words".into()
        ]]
    );
}

#[test]
fn failure_carries_status_command_and_tail_and_logs_everything_redacted() {
    let bin = TempDir::new("exec-bin");
    let logs = TempDir::new("exec-logs");
    let noisy: String = (1..=30).map(|i| format!("line {i}\n")).collect();
    let tool = stand_in(
        bin.path(),
        "terraform",
        &noisy,
        "Error: token s3cr3t-value rejected\n",
        4,
    );
    let log = logs.join("runs/1/nodes.log");
    let cmd = Command::new(&tool, bin.path())
        .arg("apply")
        .secret_arg("-var=token=s3cr3t-value");
    let err = run(
        &cmd,
        &RunOptions {
            log: Some(&log),
            tail_lines: 5,
            ..RunOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("terraform apply '***'` exited with status 4"),
        "{err}"
    );
    let ExecError::Failed {
        command,
        code,
        signal,
        stdout_tail,
        stderr_tail,
        log: logged,
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(command.ends_with("terraform apply '***'"), "{command}");
    assert_eq!((code, signal), (Some(4), None));
    assert_eq!(
        stdout_tail,
        ["line 26", "line 27", "line 28", "line 29", "line 30"]
    );
    assert_eq!(stderr_tail, ["Error: token *** rejected"]);
    assert_eq!(logged.as_deref(), Some(log.as_path()));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains("s3cr3t-value"),
        "the log never holds a secret:\n{text}"
    );
    assert!(text.starts_with("$ cd "), "{text}");
    assert!(text.contains("line 30\n") && text.contains("! Error: token *** rejected\n"));
    assert!(text.ends_with("# exited with status 4\n"), "{text}");
}

#[test]
fn could_not_start_is_not_the_same_as_failed() {
    let dir = TempDir::new("exec-missing");
    let err = run(
        &Command::new(dir.join("nope"), dir.path()),
        &RunOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ExecError::Spawn { .. }), "{err:?}");
    assert!(err.to_string().starts_with("could not start `"), "{err}");
}

#[test]
fn dry_run_reports_without_running() {
    let bin = TempDir::new("exec-bin");
    let tool = stand_in(bin.path(), "helm", "", "", 1);
    let out = run(
        &Command::new(&tool, bin.path()).arg("upgrade"),
        &RunOptions {
            dry_run: true,
            ..RunOptions::default()
        },
    )
    .unwrap();
    assert!(out.dry_run);
    assert!(stand_in_calls(bin.path(), "helm").is_empty(), "nothing ran");
}

#[test]
fn extra_success_codes_count_as_success() {
    let bin = TempDir::new("exec-bin");
    let tool = stand_in(bin.path(), "terraform", "", "", 2);
    let cmd = Command::new(&tool, bin.path()).args(["plan", "-detailed-exitcode"]);
    let err = run(&cmd, &RunOptions::default()).unwrap_err();
    assert!(
        matches!(err, ExecError::Failed { code: Some(2), .. }),
        "{err:?}"
    );
    let out = run(
        &cmd,
        &RunOptions {
            success_codes: &[0, 2],
            ..RunOptions::default()
        },
    )
    .unwrap();
    assert_eq!(out.code, 2);
}

#[test]
fn tools_are_found_by_override_then_path() {
    let bin = TempDir::new("exec-bin");
    stand_in(bin.path(), "tofu", "", "", 0);
    stand_in(bin.path(), "custom-tf", "", "", 0);
    // A tool as a tool crate declares one (strata-terraform's, here).
    let terraform = &Tool {
        name: "terraform",
        env_var: "STRATA_TERRAFORM",
        candidates: &["terraform", "tofu"],
        version_args: &["version"],
    };
    let path = OsString::from(bin.path());
    let env = |pairs: Vec<(&'static str, OsString)>| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.clone())
        }
    };
    let found = find_tool_with(terraform, env(vec![("PATH", path.clone())])).unwrap();
    assert_eq!(
        (
            found.path.file_name().unwrap().to_str(),
            found.from_override
        ),
        (Some("tofu"), false)
    );
    let found = find_tool_with(
        terraform,
        env(vec![
            ("PATH", path.clone()),
            ("STRATA_TERRAFORM", "custom-tf".into()),
        ]),
    )
    .unwrap();
    assert_eq!(
        (found.path, found.from_override),
        (bin.join("custom-tf"), true)
    );
    let err = find_tool_with(terraform, env(vec![("PATH", "/nowhere".into())])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`terraform` or `tofu` not found on PATH (set STRATA_TERRAFORM to use another binary)"
    );
    let err = find_tool_with(
        terraform,
        env(vec![
            ("PATH", path),
            ("STRATA_TERRAFORM", "/nowhere/tf".into()),
        ]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "STRATA_TERRAFORM is set to `/nowhere/tf`, which is not an executable file or a program on PATH"
    );
}

/// A variable removed from a command is not inherited by the child, whether Strata has it
/// (cargo gives every test `CARGO_PKG_NAME`) or the command set it earlier, and the command
/// line shows the removal. (Not PATH: a POSIX shell puts a default PATH back.)
#[test]
fn a_removed_variable_does_not_reach_the_child_and_the_command_line_says_so() {
    assert_eq!(
        std::env::var("CARGO_PKG_NAME").as_deref(),
        Ok("strata-exec"),
        "cargo runs the test with CARGO_PKG_NAME set"
    );
    let bin = TempDir::new("exec-bin");
    let tool = strata_testkit::script(
        bin.path(),
        "show-env",
        "printf 'PKG=%s TOKEN=%s\\n' \"${CARGO_PKG_NAME-unset}\" \"${TOKEN-unset}\"\n",
    );
    let capture = RunOptions {
        capture_stdout: true,
        ..RunOptions::default()
    };
    let inherits = Command::new(&tool, bin.path()).env("TOKEN", "t0ken");
    assert_eq!(
        run(&inherits, &capture).unwrap().stdout,
        "PKG=strata-exec TOKEN=t0ken\n"
    );
    let removed = inherits.env_remove("CARGO_PKG_NAME").env_remove("TOKEN");
    assert_eq!(
        run(&removed, &capture).unwrap().stdout,
        "PKG=unset TOKEN=unset\n"
    );
    assert_eq!(
        removed.to_string(),
        format!(
            "cd {} && env -u CARGO_PKG_NAME -u TOKEN {}",
            shell_quote(&bin.path().to_string_lossy()),
            shell_quote(&tool.to_string_lossy())
        )
    );
    // Setting it again undoes the removal.
    let again = removed.env("TOKEN", "back");
    assert_eq!(
        run(&again, &capture).unwrap().stdout,
        "PKG=unset TOKEN=back\n"
    );
}

/// A path that is not UTF-8 (a file name from another system's encoding) reaches the child
/// byte for byte, as an argument and as a value; messages show it lossily.
#[test]
fn arguments_and_values_that_are_not_utf8_reach_the_child_unchanged() {
    use std::os::unix::ffi::OsStrExt as _;
    let bin = TempDir::new("exec-bin");
    let got = bin.join("got");
    let tool = strata_testkit::script(
        bin.path(),
        "record",
        &format!(
            "printf '%s|%s' \"$1\" \"$IMAGE\" > {}\n",
            shell_quote(&got.to_string_lossy())
        ),
    );
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.img");
    let cmd = Command::new(&tool, bin.path()).arg(name).env("IMAGE", name);
    run(&cmd, &RunOptions::default()).unwrap();
    assert_eq!(std::fs::read(&got).unwrap(), b"caf\xe9.img|caf\xe9.img");
    assert!(cmd.to_string().ends_with(" 'caf\u{fffd}.img'"), "{cmd}");
}
