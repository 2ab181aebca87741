declare module 'cloudexec:runtime/manifest-types@0.1.0' {
  /**
   * A function the bin calls (seed 000: `appData.executionData.appFunction[]`).
   */
  export interface FunctionDecl {
    functionKey: string,
    functionName: string,
    /**
     * Parameter type names in order, e.g. `["string", "double"]`.
     */
    paramsTypelist: Array<string>,
    returnType: string,
  }
  /**
   * An allowed move between two states.
   */
  export interface TransitionDecl {
    from: string,
    to: string,
  }
  /**
   * A state machine of the bin, numbered as the seed's `stateMachineNo`.
   */
  export interface StateMachineDecl {
    id: number,
    name: string,
    states: Array<string>,
    initial: string,
    /**
     * Allowed moves; empty means any declared state may follow any other.
     */
    transitions: Array<TransitionDecl>,
  }
  export interface Manifest {
    functions: Array<FunctionDecl>,
    stateMachines: Array<StateMachineDecl>,
  }
}
