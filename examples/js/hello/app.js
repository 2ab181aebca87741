// `hello` in JavaScript: the same answers and log line as the Rust example.
//
// `{"name": "Ada"}` -> `{"greeting": "Hello, Ada!"}`; a missing or null name greets the
// world. Logs `greeting <name>` at info level.

import { CloudexecError, log } from 'cloudexec';

export function handle(input) {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new CloudexecError('InvalidArgument', 'invalid input: expected an object');
  }
  const name = input.name ?? 'world';
  log.info(`greeting ${name}`);
  return { greeting: `Hello, ${name}!` };
}
