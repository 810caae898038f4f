import { UnsupportedError } from '../errors.js';
import { TracerCore } from './tracer-core.js';

/** What the factory returns when no backend works here: it says why, and never pretends to trace. */
export class StubTracer extends TracerCore {
  readonly backend = 'stub';

  constructor(
    readonly reason: string,
    readonly fix: string,
  ) {
    super();
  }

  protected open(): Promise<void> {
    return Promise.reject(new UnsupportedError(`no exec tracer is available: ${this.reason}`, this.fix));
  }

  protected close(): Promise<void> {
    return Promise.resolve();
  }
}
