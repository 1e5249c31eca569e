/** The base model shipped in `models/` (see models/MODEL_CARD.md; rebuilt by `npm run train:base`). */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const bundledBaseModel = {
  name: 'tributary-base-4m',
  /** Absolute path; src/engine and dist/engine both sit two levels below the repository root. */
  path: join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', 'tributary-base-4m.gguf'),
} as const;
