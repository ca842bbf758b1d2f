//! The phases of a deploy, their order and what each depends on.

use strata_metadata::Phase;

/// Which phases a run covers: `--from`, `--to`, or exactly `--only`.
pub fn select(from: Option<Phase>, to: Option<Phase>, only: &[Phase]) -> Vec<Phase> {
    if !only.is_empty() {
        return Phase::ALL
            .into_iter()
            .filter(|p| only.contains(p))
            .collect();
    }
    Phase::ALL
        .into_iter()
        .filter(|p| from.is_none_or(|f| *p >= f) && to.is_none_or(|t| *p <= t))
        .collect()
}

/// The phase graph as a Mermaid flowchart.
pub fn mermaid() -> String {
    let mut out = String::from("flowchart LR\n");
    for p in Phase::ALL {
        for n in p.needs() {
            out.push_str(&format!("  {n} --> {p}\n"));
        }
    }
    out
}

/// The phase graph in Graphviz DOT.
pub fn dot() -> String {
    let mut out = String::from("digraph phases {\n  rankdir=LR;\n");
    for p in Phase::ALL {
        for n in p.needs() {
            out.push_str(&format!("  \"{n}\" -> \"{p}\";\n"));
        }
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_keeps_run_order() {
        assert_eq!(
            select(Some(Phase::Kubespray), None, &[]),
            [Phase::Kubespray, Phase::Platform, Phase::Business]
        );
        assert_eq!(
            select(None, Some(Phase::Generate), &[]),
            [Phase::Validate, Phase::Generate]
        );
        assert_eq!(
            select(None, None, &[Phase::Business, Phase::Images]),
            [Phase::Images, Phase::Business]
        );
        assert_eq!(Phase::from_name("nodes"), Some(Phase::Nodes));
        assert!(mermaid().contains("  nodes --> kubespray\n"));
    }
}
