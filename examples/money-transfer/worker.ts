/**
 * A worker process for one of the money-transfer saga's banks, over NATS JetStream.
 * Usage: worker.ts --service source|destination --db PATH [--namespace NS] [--nats URL]
 *        [--ack-wait-ms N] [--heartbeat-ms N] [--latency-ms N]
 * The source bank's worker shares its database with the bank's API side (upstream.ts).
 * Prints `worker ready` once consuming; stops cleanly on SIGTERM.
 */
import moneyTransfer, { creditDestination, recordDebit, settleTransfer } from '../../sagas/money-transfer.saga.js';
import { runWorkerProcess } from '../shared/worker-process.js';
import { bankServices, openBankServices } from './bank-services.js';

await runWorkerProcess({
  saga: moneyTransfer,
  services: bankServices,
  open: openBankServices,
  register: (worker, service, guarded) => {
    switch (service) {
      case 'source':
        worker.step(recordDebit, guarded).compensation(recordDebit, guarded).step(settleTransfer, guarded);
        break;
      case 'destination':
        worker.step(creditDestination, guarded).compensation(creditDestination, guarded);
        break;
    }
  },
});
