/// <reference path="./cloudexec-runtime-types.d.ts" />
declare module 'cloudexec:runtime/functions@0.1.0' {
  /**
   * Call the function bound to `function-key` with positional parameters.
   * A bin may only call keys its manifest declares.
   */
  export function call(functionKey: string, params: Array<Value>): Value;
  export type Value = import('cloudexec:runtime/types@0.1.0').Value;
  export type Error = import('cloudexec:runtime/types@0.1.0').Error;
}
