//! Reading config files defensively and parsing them with positions in every error.

use std::path::Path;

use strata_metadata::{FromJson, FromYaml, unknown_field_hint};

use crate::Diagnostic;

/// Config files larger than this are refused before they are read.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// Reads `root/rel` as text: refuses files that are too large, empty, not UTF-8 or that start
/// with a byte order mark, each with a message that says what to do.
pub(crate) fn read_text(root: &Path, rel: &Path) -> Result<String, Diagnostic> {
    let full = root.join(rel);
    let meta = std::fs::metadata(&full).map_err(|e| io_diagnostic(rel, &e))?;
    if meta.is_dir() {
        return Err(Diagnostic::error(
            rel,
            "not-a-file",
            "is a directory, expected a file",
        ));
    }
    check_size(rel, meta.len())?;
    let bytes = std::fs::read(&full).map_err(|e| io_diagnostic(rel, &e))?;
    decode(rel, bytes)
}

pub(crate) fn check_size(rel: &Path, len: u64) -> Result<(), Diagnostic> {
    if len > MAX_FILE_BYTES {
        return Err(Diagnostic::error(
            rel,
            "file-too-large",
            format!(
                "file is {:.1} MiB, over the {} MiB limit for config files",
                len as f64 / 1048576.0,
                MAX_FILE_BYTES / 1048576
            ),
        )
        .hint("config files hold settings, not data; move large content out of the package"));
    }
    Ok(())
}

/// Turns bytes into text with the same checks as [`read_text`].
pub(crate) fn decode(rel: &Path, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Err(
            Diagnostic::error(rel, "utf8-bom", "file starts with a UTF-8 byte order mark")
                .hint("save the file as UTF-8 without BOM"),
        );
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let pos = position_of(valid);
        Diagnostic::error(rel, "not-utf8", "file is not valid UTF-8")
            .at(pos)
            .hint("save the file as UTF-8")
    })?;
    if text.trim().is_empty() {
        return Err(Diagnostic::error(rel, "empty-file", "file is empty"));
    }
    Ok(text)
}

/// 1-based line and column just after `prefix`.
fn position_of(prefix: &[u8]) -> (usize, usize) {
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = prefix.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, col)
}

pub(crate) fn io_diagnostic(rel: &Path, e: &std::io::Error) -> Diagnostic {
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            Diagnostic::error(rel, "missing-file", "file does not exist")
        }
        std::io::ErrorKind::PermissionDenied => {
            Diagnostic::error(rel, "unreadable", "file cannot be read: permission denied")
        }
        _ => Diagnostic::error(rel, "unreadable", format!("file cannot be read: {e}")),
    }
}

/// Parses JSON into `T`; a failure names the line and column and suggests the field meant.
///
/// The reader is `T`'s own, compiled in strata-metadata ([`FromJson`] says why).
pub(crate) fn parse_json<T: FromJson>(rel: &Path, text: &str) -> Result<T, Diagnostic> {
    T::from_json(text).map_err(|e| {
        let message = strip_position(&e.to_string());
        Diagnostic::error(rel, "invalid-json", message.clone())
            .at((e.line(), e.column()))
            .hint_opt(unknown_field_hint(&message).or_else(|| json_hint(&e)))
    })
}

fn json_hint(e: &serde_json::Error) -> Option<String> {
    let msg = e.to_string();
    if msg.contains("trailing comma") {
        Some("JSON allows no comma after the last item".to_owned())
    } else if msg.contains("key must be a string") {
        Some("JSON keys are written in double quotes".to_owned())
    } else if msg.contains("version number") {
        Some(
            "versions are strict SemVer, MAJOR.MINOR.PATCH without a leading `v`, such as `0.2.0`"
                .to_owned(),
        )
    } else {
        None
    }
}

/// Parses YAML into `T`; a failure names the line and column and suggests the field meant.
///
/// The reader is `T`'s own, compiled in strata-metadata ([`FromYaml`] says why).
pub(crate) fn parse_yaml<T: FromYaml>(rel: &Path, text: &str) -> Result<T, Diagnostic> {
    T::from_yaml(text).map_err(|e| yaml_diagnostic(rel, &e))
}

pub(crate) fn yaml_diagnostic(rel: &Path, e: &serde_yaml_ng::Error) -> Diagnostic {
    let message = strip_position(&e.to_string());
    let d = Diagnostic::error(rel, "invalid-yaml", message.clone())
        .hint_opt(unknown_field_hint(&message));
    let d = match e.location() {
        Some(loc) => d.at((loc.line(), loc.column())),
        None => d,
    };
    if message.contains("tab character") {
        return d.hint("YAML indents with spaces, not tabs");
    }
    d
}

/// serde puts " at line L column C" into messages; the diagnostic carries the position itself.
fn strip_position(msg: &str) -> String {
    let msg = match msg.find(" at line ") {
        Some(i) if msg[i..].contains(" column ") => &msg[..i],
        _ => msg,
    };
    // serde_yaml prefixes the path of the value it was reading (`environments.dev: …`); keep it.
    msg.trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_carry_position_and_suggestion() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[expect(dead_code, reason = "only the error matters")]
        struct T {
            version: String,
        }
        impl FromJson for T {
            fn from_json(text: &str) -> Result<Self, serde_json::Error> {
                serde_json::from_str(text)
            }
        }
        let err = parse_json::<T>(Path::new("p.json"), "{\n  \"verison\": \"1\"\n}").unwrap_err();
        assert_eq!(
            (
                err.line,
                err.column,
                err.message.as_str(),
                err.hint.as_deref()
            ),
            (
                2,
                11,
                "unknown field `verison`, expected `version`",
                Some("did you mean `version`?")
            )
        );
    }

    #[test]
    fn yaml_positions_are_one_based() {
        #[derive(serde::Deserialize, Debug)]
        #[expect(dead_code, reason = "only the error matters")]
        struct T {
            a: u32,
            b: u32,
        }
        impl FromYaml for T {
            fn from_yaml(text: &str) -> Result<Self, serde_yaml_ng::Error> {
                serde_yaml_ng::from_str(text)
            }
        }
        let err = parse_yaml::<T>(Path::new("a.yaml"), "a: 1\nb: x\n").unwrap_err();
        assert_eq!((err.line, err.column), (2, 4), "{err}");
    }

    #[test]
    fn bom_empty_and_binary_are_refused() {
        let p = Path::new("f");
        assert_eq!(
            decode(p, b"\xEF\xBB\xBF{}".to_vec()).unwrap_err().code,
            "utf8-bom"
        );
        assert_eq!(decode(p, b"  \n".to_vec()).unwrap_err().code, "empty-file");
        let err = decode(p, b"ok\nab\xFF".to_vec()).unwrap_err();
        assert_eq!((err.code, err.line, err.column), ("not-utf8", 2, 3));
    }
}
