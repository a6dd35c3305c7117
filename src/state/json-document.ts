import type { z } from 'zod';

/**
 * A field of a stored jsonb document: optional, and read as absent when an older (or newer)
 * my2pg wrote something else there, so that one odd field never makes a whole run unreadable.
 */
export function field<T extends z.ZodType>(schema: T) {
  return schema.optional().catch(undefined);
}

/**
 * The TypeScript view of a parsed document: zod's loose objects keep every key they were
 * given (nothing written is lost when a run is read back), but their inferred types carry an
 * index signature that no interface of the engine satisfies. This drops those signatures.
 */
export type Strict<T> = T extends readonly (infer U)[]
  ? Strict<U>[]
  : T extends object
    ? keyof KnownKeys<T> extends never
      ? { [key: string]: Strict<T[keyof T]> } // a record: its index signature is all it has
      : { [K in keyof KnownKeys<T>]: Strict<T[K]> }
    : T;

/** The named keys of an object type, without its index signature. */
type KnownKeys<T> = { [K in keyof T as string extends K ? never : K]: T[K] };
