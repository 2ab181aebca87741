//! The JavaScript runtime of seed 001's cloud functions. The host calls it with
//! `{"source": <the function's code>, "event": <the trigger's event>}` (or with
//! `"check": true` to only parse an upload); it evaluates the
//! source as a CommonJS module, calls `exports.main(event, callback)` and answers what the
//! function gave: `callback(null, value)`, or the value an `async` main resolves to.
//! `callback(err)`, a throw or a rejection is an error (`JsError`, with its message); a
//! source that does not parse is `SyntaxError`, naming the line. `console.log`/`info`/
//! `warn`/`error` write the job's log.

use boa_engine::{Context, JsResult, JsValue, NativeFunction, Script, Source, js_string};
use cloudexec_sdk::{Error, error, function, info, warn};
use serde::Deserialize;
use serde_json::Value as Json;

#[derive(Deserialize)]
struct Call {
    source: String,
    #[serde(default)]
    event: Json,
    /// Only parse the source (the host checks an upload): `true` when it parses.
    #[serde(default)]
    check: bool,
}

/// Defines `module`, `exports` and `console` before the function's source runs.
const PRELUDE: &str = r#"
var module = { exports: {} };
var exports = module.exports;
var __format = function (args) {
  return Array.prototype.map.call(args, function (a) {
    if (typeof a === "string") return a;
    try { var text = JSON.stringify(a); return text === undefined ? String(a) : text; } catch (e) { return String(a); }
  }).join(" ");
};
var console = {
  log: function () { __log("info", __format(arguments)); },
  info: function () { __log("info", __format(arguments)); },
  debug: function () { __log("info", __format(arguments)); },
  warn: function () { __log("warn", __format(arguments)); },
  error: function () { __log("error", __format(arguments)); }
};
"#;

/// Calls `main` with the event; whatever settles first (the callback, a returned promise,
/// a throw) is kept in `__outcome`.
const CALL_MAIN: &str = r#"
var __outcome = null;
(function () {
  var main = module.exports && module.exports.main;
  if (typeof main !== "function") main = exports.main;
  if (typeof main !== "function") throw new TypeError("the function's code must set exports.main to a function");
  var settle = function (err, value) {
    if (__outcome !== null) return;
    if (err !== null && err !== undefined) {
      __outcome = { error: (err && err.message !== undefined) ? String(err.message) : String(err) };
    } else {
      __outcome = { value: value === undefined ? null : value };
    }
  };
  try {
    var returned = main(JSON.parse(__event), settle);
    if (returned && typeof returned.then === "function") {
      returned.then(function (v) { settle(null, v); }, function (e) { settle(e === undefined ? "rejected" : e); });
    }
  } catch (e) {
    settle(e === undefined ? "thrown" : e);
  }
})();
"#;

#[function]
fn run(call: Call) -> Result<Json, Error> {
    let mut context = Context::default();
    if call.check {
        Script::parse(Source::from_bytes(&call.source), None, &mut context)
            .map_err(|e| Error::new("SyntaxError", e.to_string()))?;
        return Ok(Json::Bool(true));
    }
    setup(&mut context, &call.event).map_err(|e| Error::new("InternalError", format!("starting JavaScript: {e}")))?;
    context.eval(Source::from_bytes(&call.source)).map_err(|e| syntax_or_thrown(&e.to_string()))?;
    context.eval(Source::from_bytes(CALL_MAIN)).map_err(|e| Error::new("JsError", e.to_string()))?;
    context.run_jobs().map_err(|e| Error::new("JsError", e.to_string()))?;
    let outcome = context
        .eval(Source::from_bytes("JSON.stringify(__outcome)"))
        .and_then(|v| v.to_string(&mut context))
        .map_err(|e| Error::new("JsError", e.to_string()))?
        .to_std_string_escaped();
    match serde_json::from_str::<Json>(&outcome).unwrap_or(Json::Null) {
        Json::Object(mut o) if o.contains_key("error") => {
            let message = o.remove("error").and_then(|m| m.as_str().map(str::to_owned)).unwrap_or_default();
            Err(Error::new("JsError", message))
        }
        Json::Object(mut o) => Ok(o.remove("value").unwrap_or(Json::Null)),
        _ => Err(Error::new("JsError", "exports.main returned without calling its callback or resolving")),
    }
}

/// The event as JSON text, `__log` and the prelude.
fn setup(context: &mut Context, event: &Json) -> JsResult<()> {
    let text = js_string!(event.to_string());
    context.register_global_property(js_string!("__event"), text, boa_engine::property::Attribute::all())?;
    context.register_global_callable(js_string!("__log"), 2, NativeFunction::from_fn_ptr(log))?;
    context.eval(Source::from_bytes(PRELUDE)).map(drop)
}

/// `__log(level, text)`: a line of the job's log.
fn log(_this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let text = |i: usize, context: &mut Context| -> JsResult<String> {
        Ok(args.get(i).cloned().unwrap_or_default().to_string(context)?.to_std_string_escaped())
    };
    let (level, line) = (text(0, context)?, text(1, context)?);
    match level.as_str() {
        "warn" => warn!("{line}"),
        "error" => error!("{line}"),
        _ => info!("{line}"),
    }
    Ok(JsValue::undefined())
}

/// A source that does not parse is a `SyntaxError` (its message names the line); one that
/// throws while it is evaluated is a `JsError`.
fn syntax_or_thrown(message: &str) -> Error {
    let code = if message.starts_with("SyntaxError") { "SyntaxError" } else { "JsError" };
    Error::new(code, message.to_string())
}
