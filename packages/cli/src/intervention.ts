import type { InterventionAction } from '@sagaflow/core';
import { naming, requestIntervention, type InterventionRequest } from '@sagaflow/nats';
import { OperationError, UsageError } from './cli-error.js';
import { askEngine, withNats } from './nats-client.js';
import { defaultOperator } from './operator.js';
import { globalHelp, integerOption, onePositional, parseCommand, printedHelp, stringOption, type Command } from './options.js';
import { paintStatus, palette, print, printJson } from './output.js';
import { instanceJson } from '@sagaflow/inspect';

/** How an intervention command reads its `--step`. */
interface InterventionSpec {
  readonly action: InterventionAction;
  readonly step: 'required' | 'optional' | 'none';
  /** What the command does, for its help. */
  readonly description: string;
  readonly examples: readonly string[];
}

/**
 * A command that asks the running engine (over NATS, `<ns>.api.intervene`) to intervene on one
 * instance. The engine decides it like any input and records it as an `OperatorIntervened` event
 * with `--by` and `--reason`, or refuses it with the reason the instance's state does not allow it.
 */
export function interventionCommand(spec: InterventionSpec): Command {
  const stepUsage = spec.step === 'required' ? ' --step STEP' : spec.step === 'optional' ? ' [--step STEP]' : '';
  const usage = `sagaflow ${spec.action} ID${stepUsage} --reason TEXT [--by NAME]`;
  return {
    name: spec.action,
    help: `Usage: ${usage} [global options]

${spec.description}

Sent to the running engine over NATS (the engine of --namespace must run: "sagaflow run"); the
engine records it as an OperatorIntervened event with who and why, visible in "sagaflow show".
If the instance's state does not allow it, the engine refuses and the reason is printed (exit 1).

Options:
  --reason TEXT   why (required; recorded with the event)
  --by NAME       who (default: the OS user running the command)${
    spec.step === 'none' ? '' : `\n  --step STEP     ${spec.step === 'required' ? 'the stuck compensation (its step name; required)' : 'the stuck step or compensation (its step name; default: whichever is stuck)'}`
  }
  --timeout-ms N  how long to wait for the engine's answer (default 10000)

${globalHelp}

Examples:
${spec.examples.map((example) => `  ${example}`).join('\n')}`,
    async run(argv) {
      const { global, values, positionals } = parseCommand(argv, {
        by: { type: 'string' },
        reason: { type: 'string' },
        ...(spec.step === 'none' ? {} : { step: { type: 'string' } }),
        'timeout-ms': { type: 'string' },
      });
      if (printedHelp(global, this)) return 0;
      const instanceId = onePositional(positionals, 'ID', usage);
      const reason = stringOption(values, 'reason')?.trim();
      if (reason === undefined || reason === '') throw new UsageError(`Missing --reason TEXT: say why, it is recorded with the ${spec.action} (${usage})`);
      const by = stringOption(values, 'by')?.trim() || defaultOperator(global.env);
      const step = stringOption(values, 'step');
      if (spec.step === 'required' && (step === undefined || step === '')) throw new UsageError(`Missing --step STEP: name the compensation to ${spec.action} (${usage})`);
      const timeoutMs = integerOption(values, 'timeout-ms', 10_000, 600_000);
      const request: InterventionRequest = { instanceId, action: spec.action, by, reason, ...(step === undefined ? {} : { step }) };
      const answer = await withNats(global, (connection) => askEngine(global, () => requestIntervention(connection, naming(global.namespace), request, timeoutMs)));
      if (!answer.ok) throw new OperationError(answer.error.message);
      const summary = answer.summary;
      if (global.json) {
        printJson({ instanceId, action: spec.action, by, reason, step: step ?? null, instance: instanceJson(summary) });
        return 0;
      }
      const colours = palette();
      const current = summary.currentStep === null ? '' : `, ${summary.currentStep} (attempt ${summary.attempts})`;
      print(`${spec.action} of ${colours.bold(instanceId)} recorded (by ${by}): now ${paintStatus(colours, summary.status)}${current}`);
      return 0;
    },
  };
}
