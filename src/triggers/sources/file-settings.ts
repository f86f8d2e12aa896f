import path from 'node:path';
import { z } from 'zod';

/** What happened to a file. */
export const FILE_EVENT_KINDS = ['created', 'modified', 'deleted'] as const;
export type FileEventKind = (typeof FILE_EVENT_KINDS)[number];

/**
 * Settings of a `file` trigger (`nimbus trigger create … --watch <dir> [--pattern <glob>]
 * [--events created,modified,deleted]`). The platform watches the directory itself: functions
 * never see it, they get one event per change.
 */
export const fileSettingsSchema = z
  .object({
    /** The directory to watch: absolute; it may not exist yet (the trigger is `failing` until it does). */
    path: z
      .string()
      .min(1)
      .max(4096)
      .refine((dir) => path.isAbsolute(dir), { message: 'must be an absolute directory path (e.g. /srv/inbox)' })
      .refine((dir) => !dir.includes('\0'), { message: 'must not contain a NUL character' }),
    /**
     * A glob relative to `path` (picomatch syntax): `*.csv` matches files directly in it,
     * `**\/*.json` at any depth. All files at any depth when absent.
     */
    pattern: z
      .string()
      .min(1)
      .max(1024)
      .refine((glob) => !glob.startsWith('/'), { message: 'must be relative to the watched directory (no leading /)' })
      .refine((glob) => !glob.split('/').includes('..'), { message: 'must not leave the watched directory (no .. segment)' })
      .optional(),
    /** Which changes become events. @default all three */
    events: z
      .array(z.enum(FILE_EVENT_KINDS))
      .min(1, { message: 'name at least one of created, modified, deleted' })
      .default([...FILE_EVENT_KINDS]),
  })
  .strict();

/** A file trigger's settings, defaults filled in. No transforms: the schema is also the API's JSON Schema (both directions). */
export type FileSettings = z.output<typeof fileSettingsSchema>;
