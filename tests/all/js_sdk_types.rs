//! The JavaScript SDK's types: the declarations of the WIT imports (`guest-sdk/js/wit/`)
//! are what jco generates from `guest-sdk/wit/runtime.wit` today, and the SDK's own code
//! type-checks against them with TypeScript (so a WIT change the SDK does not follow
//! fails here).

use std::path::Path;
use std::process::Command;

fn files(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(files(&path)?.into_iter().map(|(name, text)| (format!("{}/{name}", file_name(&path)), text)));
        } else {
            found.push((file_name(&path), std::fs::read_to_string(&path)?));
        }
    }
    found.sort();
    Ok(found)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

#[test]
fn the_js_sdk_matches_and_type_checks_against_the_declarations_jco_generates_from_the_wit() -> anyhow::Result<()> {
    let bin = cloudexec_tests::language_tool("js-tools.sh")?;
    let tools = bin.parent().and_then(Path::parent).ok_or_else(|| anyhow::anyhow!("tools dir of {}", bin.display()))?;
    let root = cloudexec_tests::repo_root();
    let fresh = tempfile::tempdir()?;
    let generated =
        Command::new("node").arg(root.join("scripts/js-wit-types.mjs")).arg(tools).arg(fresh.path()).output()?;
    anyhow::ensure!(generated.status.success(), "jco failed: {}", String::from_utf8_lossy(&generated.stderr));
    let checked_in = files(&root.join("guest-sdk/js/wit"))?;
    assert!(
        checked_in.iter().any(|(name, _)| name == "bin.d.ts"),
        "{:?}",
        checked_in.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert!(
        checked_in == files(fresh.path())?,
        "guest-sdk/js/wit is stale: run `node scripts/js-wit-types.mjs target/js-tools`"
    );

    let checked = Command::new(bin.join("tsc")).arg("-p").arg(root.join("guest-sdk/js")).output()?;
    assert!(
        checked.status.success(),
        "the SDK does not type-check against its WIT declarations:\n{}",
        String::from_utf8_lossy(&checked.stdout)
    );
    Ok(())
}
