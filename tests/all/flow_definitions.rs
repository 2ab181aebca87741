//! Flow definition parsing over the conformance corpus (tests/corpus: real Rill Flow DAGs
//! and old-format FDL flows) and the example flows in examples/flows.

use std::path::{Path, PathBuf};

use cloudexec::flows::definition::parse;
use cloudexec::flows::graph::{ChoiceTarget, FlowFormat, FlowGraph, NodeKind};
use cloudexec_tests::repo_root;

fn corpus(dir: &str) -> PathBuf {
    repo_root().join("tests/corpus").join(dir)
}

fn parse_file(path: &Path) -> FlowGraph {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    parse(&text).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
}

fn corpus_file(dir: &str, prefix: &str) -> FlowGraph {
    let entries = std::fs::read_dir(corpus(dir)).expect("reading the corpus");
    let path = entries
        .map(|e| e.expect("a corpus entry").path())
        .find(|p| p.to_string_lossy().contains(&format!("/{prefix}")));
    parse_file(&path.unwrap_or_else(|| panic!("no {dir}/{prefix}*")))
}

#[test]
fn every_corpus_definition_parses() {
    for (dir, format, expected) in [("rill-flow", FlowFormat::Dag, 34), ("fdl", FlowFormat::Fdl, 15)] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(corpus(dir)).unwrap().map(|e| e.unwrap().path()).collect();
        files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
        files.sort();
        assert_eq!(files.len(), expected, "{dir} should hold {expected} definitions");
        let failures: Vec<String> = files
            .iter()
            .filter_map(|p| {
                let text = std::fs::read_to_string(p).unwrap();
                match parse(&text) {
                    Ok(graph) if graph.format == format => None,
                    Ok(graph) => Some(format!("{}: parsed as {:?}", p.display(), graph.format)),
                    Err(e) => Some(format!("{}: {e}", p.display())),
                }
            })
            .collect();
        assert!(failures.is_empty(), "failed:\n{}", failures.join("\n"));
    }
}

#[test]
fn corpus_spot_checks() {
    let greet = corpus_file("rill-flow", "01-");
    assert_eq!(greet.root.nodes.len(), 2);
    assert_eq!((greet.workspace.as_deref(), greet.name.as_str()), (Some("rillFlowSimple"), "greet"));

    let parallel = corpus_file("rill-flow", "07-");
    let foreach = parallel.root.nodes.iter().find_map(|n| match &n.kind {
        NodeKind::Foreach(spec) => Some(spec),
        _ => None,
    });
    assert_eq!(foreach.expect("07 has a foreach").block.nodes.len(), 2);

    let switch = corpus_file("rill-flow", "09-");
    let choice = switch.root.nodes.iter().find(|n| n.name == "choice").unwrap();
    let NodeKind::Choice(spec) = &choice.kind else { panic!("09's choice is a switch") };
    assert!(matches!(&spec.default, Some(ChoiceTarget::Next(next)) if next.len() == 1));

    let legacy = corpus_file("rill-flow", "12-");
    assert_eq!((legacy.workspace.as_deref(), legacy.name.as_str()), (Some("testBusinessId"), "mca"));

    let mask = corpus_file("fdl", "02-");
    let NodeKind::Choice(outer) = &mask.root.nodes[1].kind else { panic!("02's second step is a choice") };
    let Some(ChoiceTarget::Block(default)) = &outer.default else { panic!("default steps") };
    let NodeKind::Choice(inner) = &default.nodes[2].kind else { panic!("nested choice") };
    let Some(ChoiceTarget::Block(multi)) = &inner.default else { panic!("multi-face steps") };
    let check = multi.index_of("ImageCropLoopCheck").unwrap();
    let crop = multi.index_of("ImageCrop").unwrap();
    assert!(crop < check && multi.nodes[check].successors().contains(&crop), "goto loops back to ImageCrop");
}

#[test]
fn example_flows_parse() {
    let dir = repo_root().join("examples/flows");
    let dag = parse_file(&dir.join("sample.yaml"));
    assert_eq!(
        (dag.format, dag.workspace.as_deref(), dag.name.as_str()),
        (FlowFormat::Dag, Some("demoFlowTest"), "demoTest")
    );
    assert_eq!(dag.root.nodes.len(), 2);
    let machine = parse_file(&dir.join("sample.state-machine.yaml"));
    assert_eq!((machine.format, machine.root.nodes.len()), (FlowFormat::StateMachine, 2));
}
