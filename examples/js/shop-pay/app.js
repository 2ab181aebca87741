// `payOrder` (key `utcook.jar:com.ut.BuzMethod.payOrder`) of the `shop` bin, in JavaScript.
//
// Parameters `[order_id: string]` -> `true` if it is an order id the shop issued.

import { CloudexecError } from 'cloudexec';

export function handle(params) {
  if (!Array.isArray(params) || params.length !== 1 || typeof params[0] !== 'string') {
    throw new CloudexecError('InvalidArgument', 'invalid input: expected [order_id]');
  }
  return params[0].startsWith('order-');
}
