import { z } from 'zod';

/**
 * The workspace file (`cairn.workspace.json`): which code locations make up the deployment and where the
 * shared services are. Paths are relative to the file.
 */
export const WorkspaceFileSchema = z
  .object({
    codeLocations: z
      .array(
        z.object({
          module: z.string().min(1),
          /** Optional: must match the name the module declares, when given. */
          name: z.string().optional(),
        }).strict(),
      )
      .min(1, 'a workspace lists at least one code location'),
    catalog: z
      .object({
        url: z.string().min(1).optional(),
        /** `cairn catalog prune` deletes events older than `maxAge` (e.g. '90d'), keeping each asset's latest. */
        retention: z.object({ maxAge: z.string().min(1) }).strict().optional(),
      })
      .strict()
      .optional(),
    temporal: z.object({ address: z.string().min(1).optional(), namespace: z.string().min(1).optional() }).strict().optional(),
    warehouse: z.object({ path: z.string().min(1) }).strict().optional(),
  })
  .strict();

export type WorkspaceFile = z.infer<typeof WorkspaceFileSchema>;

export const DEFAULT_WORKSPACE_FILE = 'cairn.workspace.json';
