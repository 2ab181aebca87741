use serde_json::json;

use super::*;

fn path(text: &str) -> Path {
    Path::parse(text).unwrap()
}

fn holds(condition: &str, doc: &Value) -> bool {
    Condition::parse(condition).unwrap().eval(doc).unwrap()
}

#[test]
fn rfc_and_jayway_paths_select() {
    let doc = json!({"output": {"sub_context": [{"callback_result": 1}, {"callback_result": 2}, {}]}});
    assert_eq!(path("$.output.sub_context.[*].callback_result").select(&doc), Some(json!([1, 2])));
    assert_eq!(path("$.output.sub_context[*].callback_result").select(&doc), Some(json!([1, 2])));
    assert_eq!(path("$.output.sub_context[1].callback_result").select(&doc), Some(json!(2)));
    assert_eq!(path("$.output.sub_context[-3].callback_result").select(&doc), Some(json!(1)));
    assert_eq!(path("$.output.sub_context.0.callback_result").select(&doc), Some(json!(1)));
    assert_eq!(path("$..callback_result").select(&doc), Some(json!([1, 2])));
    assert_eq!(path("$.output.missing").select(&doc), None);
    assert_eq!(path("$.output.missing[*]").select(&doc), Some(json!([])));
    assert_eq!(path("$").select(&doc), Some(doc.clone()));
    assert_eq!(path(" $.output ").as_str(), " $.output ");
}

#[test]
fn odd_member_names_and_quotes() {
    let doc = json!({"input": {"header": {"content-type": "x"}, "a.b": 3}});
    assert_eq!(path("$.input.header.content-type").select(&doc), Some(json!("x")));
    assert_eq!(path("$.input[\"a.b\"]").select(&doc), Some(json!(3)));
    assert_eq!(path("$.input['a.b']").select(&doc), Some(json!(3)));
    assert!(path("$.input['a.b']").is_singular());
    assert!(!path("$.input['a','b']").is_singular());
}

#[test]
fn dialect_roots() {
    let doc = json!({"input": {"x": 1}, "output": {"y": [5]}, "context": {"z": true}, "x": 9});
    assert_eq!(path("$input.x").select(&doc), Some(json!(1)));
    assert_eq!(path("$input").select(&doc), Some(json!({"x": 1})));
    assert_eq!(path("$local.y[0]").select(&doc), Some(json!(5)));
    assert_eq!(path("$local[*]").select(&doc), Some(json!([[5]])));
    assert_eq!(path("$context.z").select(&doc), Some(json!(true)));
    assert_eq!(path("$Input.x").select(&doc), Some(json!(9)));
    assert_eq!(path("$Output.x").select(&doc), Some(json!(9)));
    assert_eq!(path("$Context.z").select(&doc), Some(json!(true)));
    assert!(Path::parse("$inputs.x").is_err());
}

#[test]
fn invalid_paths_name_the_text() {
    for bad in ["input.x", "$$$", "$.a[", "$.a..", "$.[?(@.x ==)]", "$.a b"] {
        let err = Path::parse(bad).unwrap_err();
        assert!(err.0.contains(&format!("{bad:?}")), "{bad}: {err}");
    }
}

#[test]
fn set_creates_intermediates() {
    let mut doc = json!({});
    path("$.input.query.user").set(&mut doc, json!("bob")).unwrap();
    path("$.input.list[2].name").set(&mut doc, json!("c")).unwrap();
    path("$.input.header.content-type").set(&mut doc, json!("t")).unwrap();
    assert_eq!(
        doc,
        json!({"input": {"query": {"user": "bob"}, "list": [null, null, {"name": "c"}], "header": {"content-type": "t"}}})
    );
    path("$.input.list[-1]").set(&mut doc, json!(7)).unwrap();
    assert_eq!(doc["input"]["list"][2], json!(7));
    assert!(path("$.input.list[-9]").set(&mut doc, json!(7)).is_err());
    let mut scalar = json!({"meta": "{\"text\": \"aa\"}"});
    path("$.meta.text").set(&mut scalar, json!("value")).unwrap();
    assert_eq!(scalar, json!({"meta": {"text": "value"}}));
    path("$").set(&mut doc, json!(1)).unwrap();
    assert_eq!(doc, json!(1));
    let err = path("$.a[*]").set(&mut doc, json!(1)).unwrap_err();
    assert!(err.0.contains("$.a[*]"), "{err}");
}

#[test]
fn mappings_apply_in_order() {
    let mapping = |source: Value, target: &str| Mapping {
        source: Some(Source::from_value(&source).unwrap()),
        target: path(target),
        transform: None,
    };
    let mut doc = json!({"context": {"left": 1, "meta": {"a": 1}}, "input": {}});
    let mappings = vec![
        mapping(json!("$.context.left"), "$.input.left"),
        mapping(json!("$.context.missing"), "$.input.missing"),
        mapping(json!("$.context.meta"), "$.input.meta"),
        mapping(json!("value"), "$.input.meta.text"),
        mapping(json!({}), "$.input.empty"),
        mapping(json!(5), "$.input.five"),
    ];
    apply_mappings(&mappings, &mut doc).unwrap();
    assert_eq!(doc["input"], json!({"left": 1, "meta": {"a": 1, "text": "value"}, "empty": {}, "five": 5}));
    let script = crate::flows::data::transform_script("return source * 2;").ok();
    let doubled = Mapping { source: Some(Source::Const(json!(21))), target: path("$.input.x"), transform: script };
    apply_mappings(&[doubled], &mut doc).unwrap();
    assert_eq!(doc["input"]["x"], json!(42));
    let script = crate::flows::data::transform_script("return 1 / source;").ok();
    let failing = Mapping { source: None, target: path("$.input.y"), transform: script };
    let err = apply_mappings(&[failing], &mut doc).unwrap_err();
    assert!(err.0.contains("failed") && err.0.contains("not a number"), "{}", err.0);
    assert!(crate::flows::data::transform_script("rand(1)").unwrap_err().contains("return"));
}

#[test]
fn templates_fill_paths() {
    let template = json!({"left.$": "$.a", "fixed": {"deep.$": "$.b[0]", "n": 1}, "list": [{"x.$": "$.missing"}]});
    let data = json!({"a": 2, "b": ["z"]});
    let filled = fill_template(&template, &data).unwrap();
    assert_eq!(filled, json!({"left": 2, "fixed": {"deep": "z", "n": 1}, "list": [{"x": null}]}));
    assert!(fill_template(&json!({"x.$": 1}), &data).is_err());
    assert!(fill_template(&json!({"x.$": "$$$"}), &data).is_err());
}

#[test]
fn jayway_filter_conditions() {
    let doc =
        json!({"input": {"status": "succeed", "num": 7}, "output": {"signal": true}, "list": [{"x": 1}, {"x": 2}]});
    assert!(holds("$.input.[?(@.status == \"succeed\")]", &doc));
    assert!(!holds("$.input.[?(@.status == \"failed\")]", &doc));
    assert!(holds("$.input[?(@.num >= 5)]", &doc));
    assert!(!holds("$.input[?(@.num < 5)]", &doc));
    assert!(holds("$.output[?(@.signal == true)]", &doc));
    assert!(holds("$.list[?(@.x == 2)]", &doc));
    assert!(!holds("$.list[?(@.x == 3)]", &doc));
    assert!(!holds("$.nothing[?(@.x == 3)]", &doc));
    assert!(holds("$.input[?(@.status)]", &doc));
}

#[test]
fn expression_conditions() {
    let doc = json!({"total_size": 10, "small_file_limit": 50, "s": "b", "flag": false, "has_more": true,
        "event_id": 4001, "remux": "dash", "marker": "", "list": []});
    assert!(holds("$.total_size <= $.small_file_limit", &doc));
    assert!(!holds("$.total_size > $.small_file_limit", &doc));
    assert!(holds("$.total_size == 10.0", &doc));
    assert!(holds("$.s > 'a' && $.s < \"c\"", &doc));
    assert!(holds("$.has_more && ($.event_id >= 4000 || $.x >= $.y)", &doc));
    assert!(holds("!$.flag && !$.missing", &doc));
    assert!(holds("remux == \"dash\"", &doc));
    assert!(holds("$.missing == null && $.flag != true", &doc));
    assert!(holds("$.marker == \"\"", &doc));
    assert!(!holds("$.marker != \"\"", &doc));
    assert!(holds("$.list", &doc), "an existing empty array is truthy");
    assert!(!holds("$.s == 1", &doc));
    assert!(holds("-1 < 0 && 1e3 > 999", &doc));
    assert!(holds("true || false && false", &doc));
}

#[test]
fn condition_syntax_errors_name_the_text() {
    for bad in ["", "$.a ==", "($.a", "$.a > 1)", "$$$", "'open", "length($.x)", "$.a = 1", "1 2"] {
        let err = Condition::parse(bad).unwrap_err();
        assert!(err.0.contains(&format!("{bad:?}")), "{bad}: {err}");
    }
    assert_eq!(Condition::parse(" $.a ").unwrap().as_str(), " $.a ");
}
