import type { ExampleSaga } from '../demo/deployment.js';
import { bankServices, transferInput, transferPlan, type BankService } from './bank-services.js';

/**
 * The money-transfer saga as the end-to-end test deploys it: `transfer-<n>`, started in two
 * phases by the source bank's API side (upstream.ts), ending as `transferPlan` schedules.
 */
export const transferExample: ExampleSaga<BankService> = {
  saga: 'money-transfer',
  workerScript: 'examples/money-transfer/worker.ts',
  services: bankServices,
  instanceId: (n) => `transfer-${n}`,
  input: transferInput,
  expected: (n) => {
    if (transferPlan.lacksFunds(n) || transferPlan.upstreamDies(n) === 'before-commit') return { status: 'cancelled', operations: [] };
    if (transferPlan.closedDestination(n)) return { status: 'compensated', operations: ['recordDebit', 'refundDebit'] };
    return { status: 'completed', operations: ['recordDebit', 'creditDestination', 'settleTransfer'] };
  },
  upstream: { script: 'examples/money-transfer/upstream.ts', service: 'source', crashAt: transferPlan.upstreamDies },
};
