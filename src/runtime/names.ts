import { ConfigError } from '../errors.js';

/** Longest container or image name; it becomes a directory name and part of a cgroup name. */
export const MAX_NAME_LENGTH = 64;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Container and image names become directory names under the data dir, so anything that could
 * climb out of it (`/`, `..`) or hide from listings (a leading dot) is refused.
 */
export function validateName(kind: 'container' | 'image', name: unknown): string {
  const show =
    typeof name === 'string'
      ? JSON.stringify(name.length > 80 ? `${name.slice(0, 77)}...` : name)
      : String(name);
  if (typeof name !== 'string' || name === '') {
    throw new ConfigError('name', `${kind} name must be a non-empty string, got ${show}`, { value: name });
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new ConfigError('name', `${kind} name is longer than ${MAX_NAME_LENGTH} characters: ${show}`, {
      value: name,
    });
  }
  if (!NAME.test(name) || name.includes('..')) {
    throw new ConfigError(
      'name',
      `${kind} name may hold only letters, digits, "_", "." and "-", must start with a letter or digit and must not contain "..": ${show}`,
      { value: name },
    );
  }
  return name;
}

/** A fresh container name for `create` without one: short, unique enough, and valid. */
export function generateName(): string {
  return `c-${Date.now().toString(36).slice(-4)}${Math.random().toString(36).slice(2, 8)}`;
}
