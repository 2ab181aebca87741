declare module 'cloudexec:runtime/types@0.1.0' {
  /**
   * A value that crosses the guest/host boundary.
   * 
   * Scalars travel natively; lists and records travel as JSON text in `json`, because
   * WIT variants cannot be recursive. JSON maps onto it one to one: null, bool,
   * integer (fits in s64), float, string, and arrays/objects as `json`.
   */
  export type Value = ValueNull | ValueBoolean | ValueInteger | ValueFloat | ValueText | ValueBytes | ValueJson;
  export interface ValueNull {
    tag: 'null',
  }
  export interface ValueBoolean {
    tag: 'boolean',
    val: boolean,
  }
  export interface ValueInteger {
    tag: 'integer',
    val: bigint,
  }
  export interface ValueFloat {
    tag: 'float',
    val: number,
  }
  export interface ValueText {
    tag: 'text',
    val: string,
  }
  export interface ValueBytes {
    tag: 'bytes',
    val: Uint8Array,
  }
  export interface ValueJson {
    tag: 'json',
    val: string,
  }
  /**
   * A variable as seed 000 stores it: `{data, len, type}`.
   * 
   * `type-code` and `len` are kept verbatim when a client sends them. When the host
   * infers them (a guest called `vars.set`), the codes are: 0 null, 1 bool,
   * 64 integer (the seed's example), 65 float, 66 string, 67 bytes, 68 json;
   * `len` is 4 or 8 for integers (fits in 32 bits or not), 8 for floats, 1 for
   * bools, 0 for null, and the byte length otherwise.
   */
  export interface TypedValue {
    value: Value,
    len: number,
    typeCode: number,
  }
  /**
   * A named variable of an execution instance.
   */
  export interface Variable {
    key: string,
    value: TypedValue,
  }
  /**
   * A failure a guest can see and handle, or report as its own result.
   */
  export interface Error {
    /**
     * A short machine-readable word, e.g. `NotFound`, `InvalidArgument`.
     */
    code: string,
    /**
     * What happened, for people.
     */
    message: string,
  }
}
