/// <reference path="./interfaces/cloudexec-runtime-functions.d.ts" />
/// <reference path="./interfaces/cloudexec-runtime-log.d.ts" />
/// <reference path="./interfaces/cloudexec-runtime-state-machine.d.ts" />
/// <reference path="./interfaces/cloudexec-runtime-types.d.ts" />
/// <reference path="./interfaces/cloudexec-runtime-vars.d.ts" />
declare module 'cloudexec:runtime/function@0.1.0' {
  export type Value = import('cloudexec:runtime/types@0.1.0').Value;
  export type Error = import('cloudexec:runtime/types@0.1.0').Error;
  export type * as CloudexecRuntimeFunctions010 from 'cloudexec:runtime/functions@0.1.0'; // import cloudexec:runtime/functions@0.1.0
  export type * as CloudexecRuntimeLog010 from 'cloudexec:runtime/log@0.1.0'; // import cloudexec:runtime/log@0.1.0
  export type * as CloudexecRuntimeStateMachine010 from 'cloudexec:runtime/state-machine@0.1.0'; // import cloudexec:runtime/state-machine@0.1.0
  export type * as CloudexecRuntimeTypes010 from 'cloudexec:runtime/types@0.1.0'; // import cloudexec:runtime/types@0.1.0
  export type * as CloudexecRuntimeVars010 from 'cloudexec:runtime/vars@0.1.0'; // import cloudexec:runtime/vars@0.1.0
  export function handle(input: Value): Value;
  export type Result<T, E> = { tag: 'ok', val: T } | { tag: 'err', val: E };
}
