// Types of the cloudexec JavaScript SDK, for editors. The component's own WIT types
// (guest-sdk/wit/runtime.wit) stay behind this API.

/** Any value JSON can carry. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A failure with a short machine-readable code and a message for people. */
export class CloudexecError extends Error {
  constructor(code: string, message: string);
  code: string;
  message: string;
}

/** A variable as seed 000 stores it. */
export interface TypedValue {
  value: Json;
  len: number;
  typeCode: number;
}

/** A named variable of an execution instance. */
export interface Variable {
  key: string;
  value: TypedValue;
}

/** Levelled log lines, captured into the call's log. */
export const log: {
  trace(...parts: unknown[]): void;
  debug(...parts: unknown[]): void;
  info(...parts: unknown[]): void;
  warn(...parts: unknown[]): void;
  error(...parts: unknown[]): void;
};

/** Variables of the current execution instance (bins only). */
export const vars: {
  get<T extends Json = Json>(key: string, fallback?: T | null): T | null;
  getTyped(key: string): TypedValue | null;
  set(key: string, value: Json): void;
  setTyped(key: string, value: TypedValue): void;
  list(): Variable[];
};

/** Calls to functions by functionKey. */
export const functions: {
  call<T extends Json = Json>(key: string, ...params: Json[]): T;
};

/** State machines of the current execution instance (bins only). */
export const stateMachine: {
  transition(machine: number, state: string): void;
  current(machine: number): string | null;
};

/** The variables a bin's run was given. */
export class Updates {
  get<T extends Json = Json>(key: string, fallback?: T | null): T | null;
  getTyped(key: string): TypedValue | null;
  has(key: string): boolean;
  keys(): string[];
}

/** What a bin module exports as `manifest`. */
export interface Manifest {
  functions?: { key: string; name: string; params?: string[]; returns?: string }[];
  stateMachines?: {
    id: number;
    name: string;
    states: string[];
    initial: string;
    /** Allowed moves as [from, to]; empty means any declared state may follow any other. */
    transitions?: [string, string][];
  }[];
}
