import type { Migration } from '../migrate.js';
import nodeMeta from './001_node_meta.js';
import datanets from './002_datanets.js';
import jobs from './003_jobs.js';
import models from './004_models.js';
import usage from './005_usage.js';
import settlement from './006_settlement.js';
import requestAuthorizations from './007_request_authorizations.js';
import epochSafety from './008_epoch_safety.js';
import chainMirrorBlockHashes from './009_chain_mirror_block_hashes.js';
import withdrawalSignatures from './010_withdrawal_signatures.js';
import baseModels from './011_base_models.js';

/** Every schema change, in order. Append only: an applied migration must never change (its checksum is kept). */
export const migrations: readonly Migration[] = [
  nodeMeta,
  datanets,
  jobs,
  models,
  usage,
  settlement,
  requestAuthorizations,
  epochSafety,
  chainMirrorBlockHashes,
  withdrawalSignatures,
  baseModels,
];
