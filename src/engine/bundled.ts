/** The base model shipped in `models/` (see models/MODEL_CARD.md; rebuilt by `npm run train:base`). */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const bundledBaseModel = {
  name: 'tributary-base-4m',
  /** Absolute path; src/engine and dist/engine both sit two levels below the repository root. */
  path: join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', 'tributary-base-4m.gguf'),
  /**
   * The context the node serves it with: trained on 128 positions, it reads 512 (RoPE extrapolated), so that a
   * grounded prompt and its answer fit; `npm run bench -- context` measures its loss by position.
   */
  servingContext: 512,
} as const;
