use serde_json::{Value, json};

use super::{MAX_STEPS, Script};

fn run(text: &str, source: Value) -> Result<Value, String> {
    Script::parse(text)?.run(source)
}

#[test]
fn the_corpus_scripts_run() {
    for _ in 0..50 {
        let n = run(" return rand(source) + 1;  ", json!(5)).unwrap().as_i64().unwrap();
        assert!((1..=5).contains(&n), "{n}");
    }
    assert_eq!(run("return 10 * source;", json!(3)).unwrap(), json!(30));
    assert_eq!(run("return -1 * source;", json!(3)).unwrap(), json!(-3));
    assert_eq!(run("return seq.list(0, 1, 2);", Value::Null).unwrap(), json!([0, 1, 2]));
    let segments = "let list = seq.list();  let random = rand(source)+1;  for i in range(0, random) {  \tseq.add(list, i*source);  }  return list;  ";
    let list = run(segments, json!(4)).unwrap();
    let items = list.as_array().unwrap();
    assert!((1..=4).contains(&items.len()), "{list}");
    assert!(items.iter().enumerate().all(|(i, v)| v == &json!(i as i64 * 4)), "{list}");
}

#[test]
fn expressions_follow_aviator() {
    assert_eq!(run("return 1 + 2 * 3 - 4 / 2;", Value::Null).unwrap(), json!(5));
    assert_eq!(run("return 7 % 3 == 1 && !(2 > 3) || false;", Value::Null).unwrap(), json!(true));
    assert_eq!(run("return 1.5 * 2;", Value::Null).unwrap(), json!(3.0));
    assert_eq!(run("return 'a' + 1 + \"b\";", Value::Null).unwrap(), json!("a1b"));
    assert_eq!(
        run("let s = 'hello world'; return string.substring(s, 0, string.indexOf(s, ' '));", Value::Null).unwrap(),
        json!("hello")
    );
    assert_eq!(run("return string.join(string.split('a,b', ','), '-');", Value::Null).unwrap(), json!("a-b"));
    assert_eq!(
        run("if source > 1 { return 'big'; } elsif source == 1 { return 'one'; } else { return 'small'; }", json!(1))
            .unwrap(),
        json!("one")
    );
    assert_eq!(run("let n = 0; for x in seq.list(1, 2, 3) { n = n + x; } return n;", Value::Null).unwrap(), json!(6));
    assert_eq!(run("return count(source);", json!([1, 2])).unwrap(), json!(2));
}

#[test]
fn scripts_outside_the_subset_are_refused_naming_the_construct() {
    let refused = |text: &str| Script::parse(text).unwrap_err();
    assert!(refused("return math.pow(2, 3);").contains("math.pow"));
    assert!(refused("while true { } return 1;").contains("while"));
    assert!(refused("return source.name;").contains("source.name"));
    assert!(refused("let x = 1;").contains("return"));
    assert!(refused("return (1 + 2;").contains("`)`"));
    assert!(refused("return 'open;").contains("quote"));
    assert!(refused(&format!("return {}1{};", "(".repeat(100), ")".repeat(100))).contains("nesting"));
    assert!(refused(&"x".repeat(5000)).contains("longer"));
}

#[test]
fn runs_are_bounded() {
    let forever = "let n = 0; for a in range(0, 10000) { for b in range(0, 10000) { n = n + 1; } } return n;";
    assert!(run(forever, Value::Null).unwrap_err().contains(&MAX_STEPS.to_string()));
    assert!(run("return range(0, 20000);", Value::Null).unwrap_err().contains("more than"));
    let grow = "let s = 'xxxxxxxxxxxxxxxx'; for i in range(0, 30) { s = s + s; } return s;";
    assert!(run(grow, Value::Null).unwrap_err().contains("bytes"));
    assert!(run("return 1 / 0;", Value::Null).unwrap_err().contains("zero"));
    assert!(run("return 9223372036854775807 + 1;", Value::Null).unwrap_err().contains("overflows"));
    assert!(run("return string.length();", Value::Null).is_err(), "a wrong arity is an error, not a panic");
    assert!(run("return rand(0);", Value::Null).is_err());
    assert!(run("return nope;", Value::Null).unwrap_err().contains("nope"));
}
