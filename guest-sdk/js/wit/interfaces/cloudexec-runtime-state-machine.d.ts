/// <reference path="./cloudexec-runtime-types.d.ts" />
declare module 'cloudexec:runtime/state-machine@0.1.0' {
  /**
   * Move machine `machine` to `state`, recording it on the machine's path.
   */
  export function transition(machine: number, state: string): void;
  /**
   * The machine's current state; none for a machine the manifest does not declare.
   */
  export function current(machine: number): string | undefined;
  export type Error = import('cloudexec:runtime/types@0.1.0').Error;
}
