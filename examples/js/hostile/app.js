// A JavaScript guest that misbehaves on request, for the sandbox tests.
//
// Input `{"action": ...}`: `echo` returns the input, `error` throws
// `CloudexecError("Boom", ...)`, `raise` throws a plain `TypeError`, `loop` never
// returns, `bomb` allocates until the memory cap stops it, `print` writes `n` lines of
// 1 KiB with console.log.

import { CloudexecError } from 'cloudexec';

export function handle(input) {
  switch (input.action) {
    case 'echo':
      return input;
    case 'error':
      throw new CloudexecError('Boom', 'guest chose to fail');
    case 'raise':
      throw new TypeError('the input was not to my taste');
    case 'loop': {
      let n = 0;
      for (;;) n += 1;
    }
    case 'bomb': {
      const hoard = [];
      for (;;) hoard.push(new Uint8Array(1 << 20).fill(1));
    }
    case 'print':
      for (let i = 0; i < (input.n ?? 1); i += 1) {
        console.log(`${String(i).padStart(5, '0')} ${'x'.repeat(1018)}`);
      }
      return { ok: true };
    default:
      throw new CloudexecError('InvalidArgument', `unknown action ${JSON.stringify(input.action)}`);
  }
}
