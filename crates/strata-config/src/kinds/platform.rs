//! `platform.yaml`: Helm releases and the graph of their `needs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use strata_metadata::{PlatformConfig, did_you_mean};

use super::{KindContext, dns_label_problem};
use crate::locate::{yaml_entries, yaml_entry};
use crate::source::parse_yaml;
use crate::{Diagnostic, secrets};

/// `platform.yaml`: unique releases whose `needs` exist and form no cycle; local charts exist;
/// timeouts and values files that helm's command line can take.
pub(crate) fn check_platform(rel: &Path, text: &str, cx: &KindContext<'_>) -> Vec<Diagnostic> {
    let config: PlatformConfig = match parse_yaml(rel, text) {
        Ok(c) => c,
        Err(d) => return vec![d],
    };
    let mut out = Vec::new();
    let pos = |name: &str| yaml_entry(text, "name", name);
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
    for r in &config.releases {
        secrets::json_member_secrets(&r.values, &format!("{}.values", r.name), &mut found);
    }
    for path in found {
        out.push(secrets::secret_diagnostic(rel, text, &path, "keep it in a Kubernetes Secret and reference it by name (for example `existingSecret`)"));
    }
    for r in &config.releases {
        if !seen.insert(r.name.as_str()) {
            let second = yaml_entries(text, "name", &r.name).nth(1);
            out.push(
                Diagnostic::error(
                    rel,
                    "duplicate-release",
                    format!("release `{}` is defined twice", r.name),
                )
                .at_opt(second)
                .hint("release names are unique within an environment; rename or merge one"),
            );
        }
        if let Some(msg) = dns_label_problem(&r.name, 53) {
            out.push(
                Diagnostic::error(
                    rel,
                    "release-name",
                    format!("release name `{}` {msg}", r.name),
                )
                .at_opt(pos(&r.name)),
            );
        }
        // Positions of a release's own keys: the first match after its `name:` line. Only a
        // problem needs one, so the search waits for it.
        let line = || pos(&r.name).map_or(0, |(l, _)| l);
        if let Some(timeout) = &r.timeout
            && let Some(problem) = go_duration_problem(timeout)
        {
            out.push(
                Diagnostic::error(
                    rel,
                    "release-timeout",
                    format!("release `{}`: timeout `{timeout}` {problem}", r.name),
                )
                .at_opt(yaml_entries(text, "timeout", timeout).find(|(l, _)| *l > line()).or(pos(&r.name)))
                .hint("helm's --timeout takes Go's duration form: a number and a unit, such as `900s`, `15m` or `1h30m` (units: ns, us, ms, s, m, h)"),
            );
        }
        for file in r.values_files.iter().filter(|f| f.contains(',')) {
            // helm splits every --values argument at commas, so the path would reach it as two.
            out.push(
                Diagnostic::error(
                    rel,
                    "values-file-comma",
                    format!("release `{}`: values file `{file}` has a comma in its path", r.name),
                )
                .at_opt(text_after(text, line(), file).or(pos(&r.name)))
                .hint("helm splits each --values argument at commas and cannot read this path; rename the file or its folder"),
            );
        }
        if r.chart.starts_with("oci://") && r.repository.is_some() {
            out.push(
                Diagnostic::error(
                    rel,
                    "oci-repository",
                    format!("release `{}`: chart `{}` is an oci:// reference and also names a `repository`", r.name, r.chart),
                )
                .at_opt(pos(&r.name))
                .hint("give either `chart: oci://host/path/chart`, or `repository: oci://host/path` with `chart: repo/chart`"),
            );
        }
        let local = !r.chart.starts_with("oci://") && r.repository.is_none();
        if local {
            let chart_dir = cx.root.join(&r.chart);
            if crate::walk::normalize(&r.chart).is_none() || !chart_dir.join("Chart.yaml").is_file()
            {
                out.push(Diagnostic::error(rel, "chart-missing", format!("release `{}`: local chart `{}` has no Chart.yaml", r.name, r.chart))
                    .at_opt(pos(&r.name))
                    .hint("give a chart under platform/charts/, or `repo/chart` with `repository`, or an `oci://` reference"));
            }
        }
    }
    let names: BTreeSet<&str> = config.releases.iter().map(|r| r.name.as_str()).collect();
    for r in &config.releases {
        for need in &r.needs {
            if !names.contains(need.as_str()) {
                let hint = did_you_mean(need, names.iter().copied())
                    .map(|m| format!("did you mean `{m}`?"));
                out.push(
                    Diagnostic::error(
                        rel,
                        "unknown-need",
                        format!(
                            "release `{}` needs `{need}`, which is not a release here",
                            r.name
                        ),
                    )
                    .at_opt(pos(&r.name))
                    .hint_opt(hint),
                );
            }
        }
    }
    let graph: BTreeMap<&str, Vec<&str>> = config
        .releases
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.needs
                    .iter()
                    .map(String::as_str)
                    .filter(|n| names.contains(n))
                    .collect(),
            )
        })
        .collect();
    if let Some(cycle) = find_cycle(&graph) {
        out.push(
            Diagnostic::error(
                rel,
                "needs-cycle",
                format!(
                    "releases need each other in a cycle: {}",
                    cycle.join(" -> ")
                ),
            )
            .at_opt(pos(cycle[0]))
            .hint("remove one of these `needs`"),
        );
    }
    out
}

/// The position of the first line after line `after` (1-based) that contains `needle`.
fn text_after(text: &str, after: usize, needle: &str) -> Option<(usize, usize)> {
    text.lines()
        .enumerate()
        .skip(after)
        .find_map(|(n, l)| l.find(needle).map(|c| (n + 1, l[..c].chars().count() + 1)))
}

/// Why `s` is not a duration helm's `--timeout` takes, or `None` when it is one. Helm parses
/// it with Go's `time.ParseDuration`: `0`, or one or more `<number><unit>` (`1h30m`, `1.5s`),
/// where a number is digits with an optional fraction and a unit is `ns`, `us`, `µs`, `μs`,
/// `ms`, `s`, `m` or `h`. Go also takes a sign; a negative timeout is refused here because helm
/// would give up at once.
pub(crate) fn go_duration_problem(s: &str) -> Option<&'static str> {
    let rest = s.strip_prefix('+').unwrap_or(s);
    if rest.starts_with('-') {
        return Some("is negative");
    }
    if rest == "0" {
        return None;
    }
    if rest.is_empty() {
        return Some("is empty");
    }
    let mut rest = rest;
    while !rest.is_empty() {
        let number = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (digits, tail) = rest.split_at(number);
        if digits.is_empty() || digits == "." || digits.matches('.').count() > 1 {
            return Some("is not a duration: each part is a number followed by a unit");
        }
        let unit = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit);
        if unit.is_empty() {
            return Some("has no unit: helm refuses a bare number");
        }
        if !matches!(unit, "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h") {
            return Some("has a unit helm does not know");
        }
        rest = tail;
    }
    None
}

/// A cycle in a `needs` graph, as the path that closes it.
pub fn find_cycle<'a>(graph: &BTreeMap<&'a str, Vec<&'a str>>) -> Option<Vec<&'a str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit<'a>(
        n: &'a str,
        g: &BTreeMap<&'a str, Vec<&'a str>>,
        marks: &mut BTreeMap<&'a str, Mark>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<&'a str>> {
        match marks.get(n) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = stack.iter().position(|&s| s == n).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(n);
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(n, Mark::Open);
        stack.push(n);
        for &m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, marks, stack) {
                return Some(c);
            }
        }
        stack.pop();
        marks.insert(n, Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|&n| visit(n, graph, &mut marks, &mut Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_take_gos_duration_form() {
        for ok in [
            "10m", "900s", "1h30m", "1.5h", ".5s", "5.s", "0", "300ms", "2µs", "+15m",
        ] {
            assert_eq!(go_duration_problem(ok), None, "{ok}");
        }
        for bad in [
            "900", "", "10 m", "10min", "m", "1.2.3s", ".s", "-5m", "1h30", "10M",
        ] {
            assert!(go_duration_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn cycles_are_found() {
        let g = BTreeMap::from([
            ("a", vec!["b"]),
            ("b", vec!["c"]),
            ("c", vec!["a"]),
            ("d", vec![]),
        ]);
        assert_eq!(find_cycle(&g), Some(vec!["a", "b", "c", "a"]));
        let g = BTreeMap::from([("a", vec!["b"]), ("b", vec![])]);
        assert_eq!(find_cycle(&g), None);
    }
}
