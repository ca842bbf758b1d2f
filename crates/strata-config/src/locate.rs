//! Finding where a value sits in a file, for semantic errors that serde cannot place.
//!
//! serde reports positions only for syntax and type errors. Rules that look at values ("this
//! path does not exist") still owe the user a line and column, so JSON files are scanned once
//! for the position of every member (which also reveals duplicate keys, which serde would
//! silently merge), and YAML keys are found by indentation.

use std::collections::HashMap;

/// The position of every object member and array item of a JSON document, by JSON pointer.
#[derive(Debug, Default)]
pub(crate) struct JsonPositions {
    positions: HashMap<String, (usize, usize)>,
    /// Members whose key already appeared in the same object: pointer and position.
    pub(crate) duplicates: Vec<(String, (usize, usize))>,
}

impl JsonPositions {
    /// Scans `text`. Malformed JSON yields the positions found before the fault.
    pub(crate) fn scan(text: &str) -> Self {
        let mut s = Scanner {
            b: text.as_bytes(),
            i: 0,
            line: 1,
            col: 1,
            out: JsonPositions::default(),
        };
        s.value(&mut String::new());
        s.out
    }

    /// The position of the member at `path` (its key), or of the array item.
    pub(crate) fn get(&self, path: &[&str]) -> Option<(usize, usize)> {
        let mut ptr = String::new();
        for p in path {
            ptr.push('/');
            ptr.push_str(&escape(p));
        }
        self.positions.get(&ptr).copied()
    }
}

fn escape(key: &str) -> std::borrow::Cow<'_, str> {
    if key.contains(['~', '/']) {
        key.replace('~', "~0").replace('/', "~1").into()
    } else {
        key.into()
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    line: usize,
    col: usize,
    out: JsonPositions,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.i += 1;
            if c == b'\n' {
                self.line += 1;
                self.col = 1;
            } else if c & 0xC0 != 0x80 {
                self.col += 1;
            }
        }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    /// Skips a string; returns its raw bytes, between the quotes.
    fn raw_string(&mut self) -> Option<&'a [u8]> {
        if self.peek() != Some(b'"') {
            return None;
        }
        self.bump();
        let b = self.b;
        let start = self.i;
        loop {
            // The plain run up to a quote, an escape or a line break in one tight loop: this
            // scanner sees every byte of every JSON file, and `cargo xtask` is unoptimised.
            let mut j = self.i;
            while j < b.len() && !matches!(b[j], b'"' | b'\\' | b'\n') {
                if b[j] & 0xC0 != 0x80 {
                    self.col += 1;
                }
                j += 1;
            }
            self.i = j;
            match self.peek()? {
                b'"' => {
                    self.bump();
                    return Some(&b[start..j]);
                }
                b'\\' => {
                    self.bump();
                    self.bump();
                }
                _ => self.bump(),
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        let raw = self.raw_string()?;
        // Most keys have no escapes: then they are the bytes between the quotes.
        if !raw.contains(&b'\\') {
            return std::str::from_utf8(raw).ok().map(str::to_owned);
        }
        let quoted = format!("\"{}\"", String::from_utf8_lossy(raw));
        serde_json::from_str(&quoted).ok()
    }

    fn value(&mut self, ptr: &mut String) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'{' => {
                self.bump();
                let mut seen = std::collections::HashSet::new();
                loop {
                    self.ws();
                    match self.peek()? {
                        b'}' => {
                            self.bump();
                            return Some(());
                        }
                        b',' => self.bump(),
                        _ => {
                            let pos = (self.line, self.col);
                            let key = self.string()?;
                            let len = ptr.len();
                            ptr.push('/');
                            ptr.push_str(&escape(&key));
                            if !seen.insert(key) {
                                self.out.duplicates.push((ptr.clone(), pos));
                            } else {
                                self.out.positions.insert(ptr.clone(), pos);
                            }
                            self.ws();
                            if self.peek()? != b':' {
                                return None;
                            }
                            self.bump();
                            self.value(ptr)?;
                            ptr.truncate(len);
                        }
                    }
                }
            }
            b'[' => {
                self.bump();
                let mut index = 0usize;
                loop {
                    self.ws();
                    match self.peek()? {
                        b']' => {
                            self.bump();
                            return Some(());
                        }
                        b',' => self.bump(),
                        _ => {
                            let len = ptr.len();
                            ptr.push('/');
                            ptr.push_str(&index.to_string());
                            self.out
                                .positions
                                .insert(ptr.clone(), (self.line, self.col));
                            self.value(ptr)?;
                            ptr.truncate(len);
                            index += 1;
                        }
                    }
                }
            }
            b'"' => self.raw_string().map(|_| ()),
            _ => {
                while matches!(self.peek(), Some(c) if !b",]} \t\r\n".contains(&c)) {
                    self.bump();
                }
                Some(())
            }
        }
    }
}

/// The position of a block-style YAML key reached through `path` (`["all", "children", "etcd"]`).
/// Flow-style YAML is not searched; `None` then.
pub(crate) fn yaml_key(text: &str, path: &[&str]) -> Option<(usize, usize)> {
    let mut want = path.iter().peekable();
    let mut parent_indent: Option<usize> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if parent_indent.is_some_and(|p| indent <= p) && !trimmed.starts_with("- ") {
            return None;
        }
        let key = trimmed.trim_start_matches("- ");
        let key_col = line.len() - key.len();
        let name = key
            .split_once(':')
            .map(|(k, _)| k.trim().trim_matches(['"', '\'']));
        if let (Some(name), Some(target)) = (name, want.peek())
            && name == **target
        {
            want.next();
            if want.peek().is_none() {
                return Some((n + 1, key_col + 1));
            }
            parent_indent = Some(indent);
        }
    }
    None
}

/// The position of a list entry written `key: value` (optionally after `- `), such as
/// `name: argo-cd` inside `releases`.
pub(crate) fn yaml_entry(text: &str, key: &str, value: &str) -> Option<(usize, usize)> {
    yaml_entries(text, key, value).next()
}

/// Every position of `key: value` entries, in file order.
pub(crate) fn yaml_entries<'a>(
    text: &'a str,
    key: &'a str,
    value: &'a str,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    text.lines().enumerate().filter_map(move |(n, line)| {
        let t = line.trim_start().trim_start_matches("- ");
        let (k, v) = t.split_once(':')?;
        let v = v
            .split(" #")
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches(['"', '\'']);
        (k.trim() == key && v == value).then(|| (n + 1, line.len() - t.len() + 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_positions_and_duplicates() {
        let text = "{\n  \"a\": {\"b/c\": [1, {\"d\": 2}]},\n  \"a\": 3\n}";
        let p = JsonPositions::scan(text);
        assert_eq!(p.get(&["a"]), Some((2, 3)));
        assert_eq!(p.get(&["a", "b/c"]), Some((2, 9)));
        assert_eq!(p.get(&["a", "b/c", "1"]), Some((2, 20)));
        assert_eq!(p.get(&["a", "b/c", "1", "d"]), Some((2, 21)));
        assert_eq!(p.duplicates, vec![("/a".to_owned(), (3, 3))]);
    }

    #[test]
    fn positions_past_escapes_and_wide_characters() {
        // Keys with escapes take the slow path; strings are skipped in runs, which must still
        // count columns in characters and step over escaped quotes.
        let text = "{\"k\\\"q\": \"é\\\"\", \"x~y\": [\"ü\", 1], \"b\": {\"c\": 1}}";
        let p = JsonPositions::scan(text);
        assert_eq!(p.get(&["k\"q"]), Some((1, 2)));
        assert_eq!(p.get(&["x~y"]), Some((1, 17)));
        assert_eq!(p.get(&["x~y", "1"]), Some((1, 30)));
        assert_eq!(p.get(&["b", "c"]), Some((1, 40)));
        assert!(p.duplicates.is_empty());
    }

    #[test]
    fn yaml_keys_by_indentation() {
        let text =
            "all:\n  hosts:\n    etcd: {}\n  children:\n    # c\n    etcd:\n      hosts: {}\n";
        assert_eq!(yaml_key(text, &["all", "children", "etcd"]), Some((6, 5)));
        assert_eq!(yaml_key(text, &["all", "children", "kube_node"]), None);
        assert_eq!(
            yaml_entry("releases:\n  - name: argo-cd\n", "name", "argo-cd"),
            Some((2, 5))
        );
    }
}
