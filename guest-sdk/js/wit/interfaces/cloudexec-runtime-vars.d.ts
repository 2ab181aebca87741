/// <reference path="./cloudexec-runtime-types.d.ts" />
declare module 'cloudexec:runtime/vars@0.1.0' {
  /**
   * The variable's current value, if it is set.
   */
  export function get(key: string): TypedValue | undefined;
  /**
   * The variable's value: the instance's own, else the answer of the bin's `getVarUrl`
   * (seed 000, 4.3: the engine layer holds it); an error when that fetch fails. Not
   * stored in the instance; later fetches in the same run reuse the answer.
   */
  export function fetch(key: string): TypedValue | undefined;
  /**
   * Set a variable; the host infers `type-code` and `len` from the value.
   */
  export function set(key: string, value: Value): void;
  /**
   * Set a variable with an explicit `type-code` and `len`.
   */
  export function setTyped(key: string, value: TypedValue): void;
  /**
   * Every variable of the instance, ordered by key.
   */
  export function list(): Array<Variable>;
  export type Value = import('cloudexec:runtime/types@0.1.0').Value;
  export type TypedValue = import('cloudexec:runtime/types@0.1.0').TypedValue;
  export type Variable = import('cloudexec:runtime/types@0.1.0').Variable;
  export type Error = import('cloudexec:runtime/types@0.1.0').Error;
}
