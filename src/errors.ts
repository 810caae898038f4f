/**
 * Every failure corral reports is a CorralError with a stable `code`, so programs can branch on
 * the code and people can read the message. Messages say what was wrong, then the value.
 */
export type ErrorCode =
  | 'E_CONFIG'
  | 'E_UNSUPPORTED'
  | 'E_LAUNCH'
  | 'E_NOT_FOUND'
  | 'E_NOT_EXECUTABLE'
  | 'E_STATE'
  | 'E_NO_SUCH_CONTAINER'
  | 'E_EXISTS'
  | 'E_LOCKED'
  | 'E_INTERNAL';

export class CorralError extends Error {
  readonly code: ErrorCode;
  /** Extra context for programs (the offending value, the field, the fix). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = Object.freeze({ ...details });
  }
}

/** The spec, a flag or a config file is invalid. */
export class ConfigError extends CorralError {
  /** Dotted path of the offending field, e.g. `limits.memory`. */
  readonly field: string;
  constructor(field: string, message: string, details: Record<string, unknown> = {}) {
    super('E_CONFIG', message, { field, ...details });
    this.field = field;
  }
}

/** The host cannot enforce something the spec asks for (and `bestEffort` was not set). */
export class UnsupportedError extends CorralError {
  readonly fix: string | undefined;
  constructor(message: string, fix?: string, details: Record<string, unknown> = {}) {
    super('E_UNSUPPORTED', fix ? `${message}; fix: ${fix}` : message, { fix, ...details });
    this.fix = fix;
  }
}

/** The sandbox could not be started. */
export class LaunchError extends CorralError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('E_LAUNCH', message, details, options);
  }
}

/** The command does not exist in the sandbox's view (CLI exit 127). */
export class CommandNotFoundError extends CorralError {
  constructor(command: string, details: Record<string, unknown> = {}) {
    super('E_NOT_FOUND', `command not found in the sandbox: ${JSON.stringify(command)}`, {
      command,
      ...details,
    });
  }
}

/** The command exists but cannot be executed by the sandbox user (CLI exit 126). */
export class CommandNotExecutableError extends CorralError {
  constructor(command: string, why: string, details: Record<string, unknown> = {}) {
    super(
      'E_NOT_EXECUTABLE',
      `command is not executable in the sandbox: ${JSON.stringify(command)} (${why})`,
      {
        command,
        ...details,
      },
    );
  }
}

/** An operation is not valid in the object's current state (e.g. start of a running process). */
export class StateError extends CorralError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('E_STATE', message, details);
  }
}

/** No container has this name in the runtime's data dir. */
export class NoSuchContainerError extends CorralError {
  constructor(name: string, details: Record<string, unknown> = {}) {
    super('E_NO_SUCH_CONTAINER', `no such container: ${name}`, { name, ...details });
  }
}

/** A container or image with this name exists already. */
export class ExistsError extends CorralError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('E_EXISTS', message, details);
  }
}

export function isCorralError(err: unknown): err is CorralError {
  return err instanceof CorralError;
}
