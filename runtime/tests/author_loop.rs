//! The author's loop through the real binary, for every language and kind:
//! `cloudexec new`, then `build`, `invoke` / `run-bin`, the generated `test`, and
//! `deploy` of the project directory to a running server.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, ensure};
use common::{Run, Server, TOKEN, clean_env};

/// The languages `cloudexec new` knows.
const LANGUAGES: [&str; 3] = ["python", "js", "rust"];

/// componentize-py and the JavaScript tools' directory (scripts/python-tools.sh, js-tools.sh).
fn tools() -> anyhow::Result<(PathBuf, PathBuf)> {
    Ok((cloudexec_tests::language_tool("python-tools.sh")?, cloudexec_tests::language_tool("js-tools.sh")?))
}

/// Runs the CLI in `dir`; Rust projects share the examples' target dir (compiled
/// dependencies are reused; the projects' names differ from the examples').
fn cloudexec_in(dir: &Path, args: &[&str]) -> anyhow::Result<Run> {
    let root = cloudexec_tests::repo_root();
    let (componentize_py, js_tools) = tools()?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_cloudexec"));
    command
        .current_dir(dir)
        .args(args)
        .env("CLOUDEXEC_COMPONENTIZE_PY", componentize_py)
        .env("CLOUDEXEC_JS_TOOLS", js_tools)
        .env("CARGO_TARGET_DIR", root.join("target/guests"))
        .env("CLOUDEXEC_CACHE_DIR", root.join("target/test-module-cache"));
    let out = clean_env(&mut command).output().context("running cloudexec")?;
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    Ok(Run { code: out.status.code(), stdout: text(out.stdout), stderr: text(out.stderr) })
}

/// `cloudexec new NAME --lang LANG --kind KIND` in `parent`, then `build`; the project
/// directory and its component.
fn new_and_build(parent: &Path, lang: &str, kind: &str) -> anyhow::Result<(PathBuf, String)> {
    let name = format!("author-{lang}-{kind}");
    let created = cloudexec_in(parent, &["new", &name, "--lang", lang, "--kind", kind])?.expect(0)?;
    ensure!(created.stdout.contains(&format!("created {name}")), "{created:#?}");
    let dir = parent.join(&name);
    let built = cloudexec_in(&dir, &["build"])?.expect(0)?;
    let wasm = dir.join(built.value("built ")?);
    ensure!(wasm.is_file(), "{} was not written: {built:#?}", wasm.display());
    Ok((dir, wasm.display().to_string()))
}

#[test]
fn new_build_invoke_and_test_pass_for_every_language() -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    for lang in LANGUAGES {
        let (dir, wasm) = new_and_build(temp.path(), lang, "function")?;
        cloudexec_in(&dir, &["invoke", &wasm, "--input", r#"{"name":"CLI"}"#])?
            .expect(0)?
            .shows(&[r#"output: {"greeting":"Hello, CLI!"}"#, "[INFO] greeting CLI"])?;
        cloudexec_in(&dir, &["test"])?.expect(0)?.shows(&["ok     greets by name", "3 passed, 0 failed"])?;

        // A case that no longer holds fails the run and says why.
        let toml = dir.join("cloudexec.toml");
        let text = std::fs::read_to_string(&toml)?.replace("Hello, Ada!", "Goodbye, Ada!");
        std::fs::write(&toml, text)?;
        let failed = cloudexec_in(&dir, &["test"])?.expect(1)?;
        failed.shows(&["FAILED greets by name", "expected {\"greeting\":\"Goodbye, Ada!\"}", "2 passed, 1 failed"])?;
    }
    Ok(())
}

#[test]
fn new_bins_build_run_and_test_in_every_language() -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    for lang in LANGUAGES {
        let (dir, wasm) = new_and_build(temp.path(), lang, "bin")?;
        cloudexec_in(&dir, &["run-bin", &wasm, "--vars", r#"{"add": 4}"#, "--vars", r#"{"add": 8}"#])?
            .expect(0)?
            .shows(&["count = 12", "1: full (path: idle -> counting -> full)", "count is 12"])?;
        cloudexec_in(&dir, &["test"])?
            .expect(0)?
            .shows(&["ok     adds up and starts counting", "2 passed, 0 failed"])?;
    }
    Ok(())
}

#[test]
fn deploy_builds_and_uploads_a_project_directory() -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let server = Server::start(&temp.path().join("data"), temp.path(), Some(TOKEN), &[])?;
    for lang in ["python", "js"] {
        let (dir, _) = new_and_build(temp.path(), lang, "function")?;
        let name = format!("author-{lang}-function");
        server
            .cli(&["deploy", &dir.display().to_string()])?
            .expect(0)?
            .shows(&[&format!("created function {name}")])?;
        server
            .cli(&["call", &name, "--input", r#"{"name":"server"}"#])?
            .expect(0)?
            .shows(&[r#"output: {"greeting":"Hello, server!"}"#, "[INFO] greeting server"])?;
    }
    let (bin_dir, _) = new_and_build(temp.path(), "python", "bin")?;
    let refused = server.cli(&["deploy", &bin_dir.display().to_string()])?.expect(7)?;
    ensure!(refused.stderr.contains("cloudexec bin upload"), "{refused:#?}");
    Ok(())
}

#[test]
fn a_missing_tool_or_project_is_named_with_what_to_do() -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let (dir, _) = new_and_build(temp.path(), "python", "function")?;
    std::fs::write(dir.join("app.py"), "# changed, so the component is stale\n")?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_cloudexec"));
    command.current_dir(&dir).arg("build").env("CLOUDEXEC_COMPONENTIZE_PY", temp.path().join("no-such-tool"));
    let out = clean_env(&mut command).output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(stderr.contains("is not installed") && stderr.contains("pip install componentize-py==0.25.1"), "{stderr}");

    let nowhere = cloudexec_in(temp.path(), &["build"])?.expect(7)?;
    ensure!(nowhere.stderr.contains("no cloudexec.toml") && nowhere.stderr.contains("cloudexec new"), "{nowhere:#?}");
    let again = cloudexec_in(temp.path(), &["new", "author-python-function", "--lang", "python"])?.expect(7)?;
    ensure!(again.stderr.contains("already exists"), "{again:#?}");
    let bad = cloudexec_in(temp.path(), &["new", "bad name", "--lang", "python"])?.expect(7)?;
    ensure!(bad.stderr.contains("letters, digits"), "{bad:#?}");
    let broken = temp.path().join("broken");
    std::fs::create_dir(&broken)?;
    std::fs::write(broken.join("cloudexec.toml"), "name = \"x\"\nlang = \"cobol\"\nkind = \"function\"\n")?;
    let refused = cloudexec_in(&broken, &["test"])?.expect(7)?;
    ensure!(refused.stderr.contains("cloudexec.toml") && refused.stderr.contains("cobol"), "{refused:#?}");
    Ok(())
}
