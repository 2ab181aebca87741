// Write cloudexec functions and bins as plain JavaScript functions.
//
// A function module exports `handle(input)`: a JSON value in, a JSON value out, or a
// thrown `CloudexecError(code, message)`. A bin module exports `manifest` (an object)
// and `run(updates)`. `cloudexec build` bundles the module with this package and wraps
// those exports into the component's (the WIT bindings stay hidden here).

import * as witLog from 'cloudexec:runtime/log@0.1.0';
import * as witVars from 'cloudexec:runtime/vars@0.1.0';
import * as witFunctions from 'cloudexec:runtime/functions@0.1.0';
import * as witStateMachine from 'cloudexec:runtime/state-machine@0.1.0';

/** A failure with a short machine-readable `code` and a `message` for people. */
export class CloudexecError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = 'CloudexecError';
    this.code = code;
    this.message = message;
  }
}

/** Turns a host import's WIT error into a CloudexecError. */
function hostCall(call) {
  try {
    return call();
  } catch (e) {
    const payload = e && e.payload;
    if (payload && typeof payload.code === 'string') {
      throw new CloudexecError(payload.code, payload.message);
    }
    throw e;
  }
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** A WIT value as a JavaScript value (the Rust SDK's rules; s64 arrives as BigInt). */
function toJs(value) {
  switch (value.tag) {
    case 'null':
      return null;
    case 'integer': {
      const n = Number(value.val);
      return Number.isSafeInteger(n) ? n : value.val;
    }
    case 'bytes':
      return Array.from(value.val);
    case 'json':
      return JSON.parse(value.val);
    default:
      return value.val;
  }
}

/** A value the host produced: text that is not JSON stays a string. */
function hostJs(value) {
  try {
    return toJs(value);
  } catch {
    return value.val;
  }
}

/**
 * A JavaScript value as a WIT value.
 * @returns {import('cloudexec:runtime/types@0.1.0').Value}
 */
function fromJs(value) {
  if (value === null || value === undefined) return { tag: 'null' };
  switch (typeof value) {
    case 'boolean':
      return { tag: 'boolean', val: value };
    case 'bigint':
      return value >= I64_MIN && value <= I64_MAX ? { tag: 'integer', val: value } : { tag: 'float', val: Number(value) };
    case 'number':
      if (Number.isSafeInteger(value)) return { tag: 'integer', val: BigInt(value) };
      return Number.isFinite(value) ? { tag: 'float', val: value } : { tag: 'null' };
    case 'string':
      return { tag: 'text', val: value };
    default:
      if (value instanceof Uint8Array) return { tag: 'json', val: JSON.stringify(Array.from(value)) };
      return { tag: 'json', val: JSON.stringify(value) };
  }
}

function write(level, parts) {
  witLog.write(level, parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' '));
}

/** Levelled log lines, captured into the call's log (`console.log` lands there too). */
export const log = {
  trace: (...parts) => write('trace', parts),
  debug: (...parts) => write('debug', parts),
  info: (...parts) => write('info', parts),
  warn: (...parts) => write('warn', parts),
  error: (...parts) => write('error', parts),
};

function typed(wit) {
  return { value: hostJs(wit.value), len: wit.len, typeCode: wit.typeCode };
}

/** Variables of the current execution instance (bins only). */
export const vars = {
  /**
   * The variable's value: the instance's own, else the engine layer's answer (the bin's
   * getVarUrl, seed 000 4.3); `fallback` when neither has it. Throws CloudexecError when
   * the engine layer's answer failed.
   */
  get(key, fallback = null) {
    const value = hostCall(() => witVars.fetch(key));
    return value === undefined || value === null ? fallback : hostJs(value.value);
  },
  /** The instance's own variable with its seed 000 `len` and `typeCode`, or null. */
  getTyped(key) {
    const value = witVars.get(key);
    return value === undefined || value === null ? null : typed(value);
  },
  /** Sets a variable; the host infers its type code and length. */
  set(key, value) {
    hostCall(() => witVars.set(key, fromJs(value)));
  },
  /** Sets a variable with an explicit `len` and `typeCode`. */
  setTyped(key, { value, len, typeCode }) {
    hostCall(() => witVars.setTyped(key, { value: fromJs(value), len, typeCode }));
  },
  /** Every variable of the instance, ordered by key: `[{key, value: {value, len, typeCode}}]`. */
  list() {
    return witVars.list().map((v) => ({ key: v.key, value: typed(v.value) }));
  },
};

/** Calls to functions by `functionKey` (seed 000, "execute function"). */
export const functions = {
  /** Calls the function bound to `key` with positional parameters; its result. */
  call(key, ...params) {
    return hostJs(hostCall(() => witFunctions.call(key, params.map(fromJs))));
  },
};

/** State machines of the current execution instance (bins only). */
export const stateMachine = {
  /** Moves `machine` to `state`; throws CloudexecError when the move is refused. */
  transition(machine, state) {
    hostCall(() => witStateMachine.transition(machine, state));
  },
  /** The machine's current state, or null for a machine the manifest lacks. */
  current(machine) {
    const state = witStateMachine.current(machine);
    return state === undefined ? null : state;
  },
};

/** The variables a bin's run was given, in the order the client sent them. */
export class Updates {
  constructor(variables) {
    this.variables = variables;
  }
  /** The updated value of `key`, or `fallback` when this run did not update it. */
  get(key, fallback = null) {
    const found = this.variables.find((v) => v.key === key);
    return found ? found.value.value : fallback;
  }
  /** The update of `key` with its `len` and `typeCode`, or null. */
  getTyped(key) {
    const found = this.variables.find((v) => v.key === key);
    return found ? found.value : null;
  }
  has(key) {
    return this.variables.some((v) => v.key === key);
  }
  keys() {
    return this.variables.map((v) => v.key);
  }
}

/** A thrown value as the call's WIT error; anything but a CloudexecError is `Exception`. */
function asWitError(e) {
  if (e instanceof CloudexecError) {
    return { code: e.code, message: e.message };
  }
  const message = e instanceof Error ? `${e.name}: ${e.message}` : `uncaught ${String(e)}`;
  // The stack goes to the call's log (stderr); the error carries the summary.
  console.error(e && e.stack ? `${message}\n${e.stack}` : message);
  return { code: 'Exception', message };
}

function failWith(e) {
  const error = /** @type {Error & {payload?: unknown}} */ (new Error(e.message));
  error.payload = e;
  throw error;
}

function noPromise(result, what) {
  if (result && typeof result.then === 'function') {
    throw new CloudexecError('InvalidOutput', `${what} returned a Promise: cloudexec JavaScript guests are synchronous`);
  }
  return result;
}

/** The component's `handle` export around a module's `handle(input)`. Used by the build. */
export function exportFunction(handle) {
  if (typeof handle !== 'function') throw new Error('the module must export a function named handle');
  return (input) => {
    let output;
    try {
      let value;
      try {
        value = toJs(input);
      } catch (e) {
        throw new CloudexecError('InvalidArgument', `invalid input: ${e.message}`);
      }
      output = noPromise(handle(value), 'handle');
    } catch (e) {
      failWith(asWitError(e));
    }
    return fromJs(output);
  };
}

/** The component's `manifest` export from a module's `manifest` object. Used by the build. */
export function exportManifest(manifest) {
  const m = manifest || {};
  const wit = {
    functions: (m.functions || []).map((f) => ({
      functionKey: f.key,
      functionName: f.name,
      paramsTypelist: f.params || [],
      returnType: f.returns || 'void',
    })),
    stateMachines: (m.stateMachines || []).map((s) => ({
      id: s.id,
      name: s.name,
      states: s.states,
      initial: s.initial,
      transitions: (s.transitions || []).map(([from, to]) => ({ from, to })),
    })),
  };
  return () => wit;
}

/** The component's `run` export around a module's `run(updates)`. Used by the build. */
export function exportRun(run) {
  if (typeof run !== 'function') throw new Error('the module must export a function named run');
  return (updates) => {
    try {
      const variables = updates.map((u) => ({ key: u.key, value: typed(u.value) }));
      noPromise(run(new Updates(variables)), 'run');
    } catch (e) {
      failWith(asWitError(e));
    }
  };
}
